import Foundation
import Testing

/// The protocol module (and Checksums, which it imports) must build as Embedded Swift for a
/// Cortex-M (no Foundation, no runtime allocation or existentials that Embedded Swift forbids):
/// this compiles both, on every run, with the toolchain's own swiftc for armv7em, the way the
/// firmware build does.
@Suite struct EmbeddedBuildTests {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static let sources = root.appendingPathComponent("Sources/StepTrainerProtocol")
  /// CRC-32C, which the protocol module imports: compiled first, for its module.
  static let checksumSources = root.appendingPathComponent("Sources/Checksums")

  static func swiftc() throws -> URL {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for folder in path.split(separator: ":").map(String.init) + ["/opt/swift/usr/bin"] {
      let candidate = URL(fileURLWithPath: folder).appendingPathComponent("swiftc")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "swiftc not found on PATH"])
  }

  static func swiftFiles(in folder: URL) throws -> [String] {
    try FileManager.default.subpathsOfDirectory(atPath: folder.path)
      .filter { $0.hasSuffix(".swift") }.map { folder.appendingPathComponent($0).path }
  }

  /// Compiles `files` as Embedded Swift for armv7em into `output`; returns the exit status and diagnostics.
  static func compile(_ module: String, _ files: [String], into output: URL, extra: [String]) async throws -> (
    Int32, String
  ) {
    let process = Process()
    process.executableURL = try Self.swiftc()
    process.arguments =
      [
        "-target", "armv7em-none-none-eabi", "-enable-experimental-feature", "Embedded", "-wmo", "-parse-as-library",
        "-Osize", "-Xfrontend", "-disable-stack-protector", "-module-name", module, "-c", "-o", output.path,
      ] + extra + files
    // Diagnostics go to a file (a pipe could fill up and stall the compiler), and the test waits
    // for the compiler without holding one of the few threads other tests' tasks run on.
    let log = output.path + ".log"
    FileManager.default.createFile(atPath: log, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: log) }
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
      process.terminationHandler = { _ in continuation.resume() }
      do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
  }

  @Test func protocolModuleCompilesAsEmbeddedSwiftForCortexM() async throws {
    let files = try Self.swiftFiles(in: Self.sources)
    #expect(files.count > 10)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stp-embedded-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let checksums = folder.appendingPathComponent("Checksums.o")
    let (checksumStatus, checksumMessage) = try await Self.compile(
      "Checksums", try Self.swiftFiles(in: Self.checksumSources), into: checksums,
      extra: ["-emit-module", "-emit-module-path", folder.appendingPathComponent("Checksums.swiftmodule").path])
    #expect(checksumStatus == 0, "Embedded Swift build of Checksums failed:\n\(checksumMessage)")
    guard checksumStatus == 0 else { return }
    let output = folder.appendingPathComponent("StepTrainerProtocol.o")
    let (status, message) = try await Self.compile(
      "StepTrainerProtocol", files, into: output, extra: ["-I", folder.path])
    #expect(status == 0, "Embedded Swift build failed:\n\(message)")
    let header = try FileHandle(forReadingFrom: output).readData(ofLength: 20)
    // An ELF object for ARM (e_machine 40).
    #expect(Array(header.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46])
    #expect(header[18] == 40)
  }
}
