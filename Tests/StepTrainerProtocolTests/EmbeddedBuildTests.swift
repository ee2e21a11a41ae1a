import Foundation
import Testing

/// The protocol module must build as Embedded Swift for a Cortex-M (no Foundation, no runtime
/// allocation or existentials that Embedded Swift forbids): this compiles it, on every run, with
/// the toolchain's own swiftc for armv7em, the way the firmware build does.
@Suite struct EmbeddedBuildTests {
  static let sources = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Sources/StepTrainerProtocol")

  static func swiftc() throws -> URL {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for folder in path.split(separator: ":").map(String.init) + ["/opt/swift/usr/bin"] {
      let candidate = URL(fileURLWithPath: folder).appendingPathComponent("swiftc")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "swiftc not found on PATH"])
  }

  @Test func protocolModuleCompilesAsEmbeddedSwiftForCortexM() async throws {
    let files = try FileManager.default.subpathsOfDirectory(atPath: Self.sources.path)
      .filter { $0.hasSuffix(".swift") }.map { Self.sources.appendingPathComponent($0).path }
    #expect(files.count > 10)
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("stp-embedded-\(getpid()).o")
    defer { try? FileManager.default.removeItem(at: output) }
    let process = Process()
    process.executableURL = try Self.swiftc()
    process.arguments =
      [
        "-target", "armv7em-none-none-eabi", "-enable-experimental-feature", "Embedded", "-wmo", "-parse-as-library",
        "-Osize", "-Xfrontend", "-disable-stack-protector", "-module-name", "StepTrainerProtocol", "-c", "-o",
        output.path,
      ] + files
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
    let message = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    #expect(process.terminationStatus == 0, "Embedded Swift build failed:\n\(message)")
    let header = try FileHandle(forReadingFrom: output).readData(ofLength: 20)
    // An ELF object for ARM (e_machine 40).
    #expect(Array(header.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46])
    #expect(header[18] == 40)
  }
}
