import Foundation
import Testing

/// The firmware must build as Embedded Swift for a Cortex-M: no Foundation, no existentials, no
/// heap. This compiles the checksums, protocol and firmware modules and a stub board (C functions
/// for the hardware, so nothing is optimised away) with the toolchain's swiftc for armv7em,
/// links them with unused functions removed, and checks the result's size and symbols.
@Suite struct EmbeddedBuildTests {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// A board whose every operation is an external C function, and a main loop that polls.
  static let stubBoard = """
    import StepTrainerFirmware
    import StepTrainerProtocol

    @_extern(c, "board_millis") func board_millis() -> UInt64
    @_extern(c, "board_uart_write") func board_uart_write(_ bytes: UnsafePointer<UInt8>?, _ count: Int)
    @_extern(c, "board_uart_read") func board_uart_read(_ bytes: UnsafeMutablePointer<UInt8>?, _ count: Int) -> Int
    @_extern(c, "board_echo_us") func board_echo_us() -> Int64
    @_extern(c, "board_random") func board_random() -> UInt32
    @_extern(c, "board_settings_load") func board_settings_load() -> UInt32
    @_extern(c, "board_settings_store") func board_settings_store(_ value: UInt32)

    struct StubBoard: StepTrainerBoard {
      mutating func milliseconds() -> UInt64 { board_millis() }
      mutating func uartWrite(_ bytes: UnsafeBufferPointer<UInt8>) { board_uart_write(bytes.baseAddress, bytes.count) }
      mutating func uartRead(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        board_uart_read(buffer.baseAddress, buffer.count)
      }
      mutating func measureEchoMicroseconds() -> UInt32? {
        let us = board_echo_us()
        return us < 0 ? nil : UInt32(truncatingIfNeeded: us)
      }
      var serialNumber: DeviceSerialNumber { DeviceSerialNumber(high: 1, low: 2) }
      mutating func random32() -> UInt32 { board_random() }
      mutating func loadSettings() -> FirmwareSettings? {
        let raw = board_settings_load()
        guard raw != 0 else { return nil }
        return FirmwareSettings(
          sampleRateCentihertz: UInt16(truncatingIfNeeded: raw), batchSize: UInt8(truncatingIfNeeded: raw >> 16))
      }
      mutating func storeSettings(_ settings: FirmwareSettings) {
        board_settings_store(UInt32(settings.sampleRateCentihertz) | UInt32(settings.batchSize) << 16)
      }
    }

    @_cdecl("stedi_firmware_main")
    public func firmwareMain() {
      var firmware = StepTrainerFirmware(board: StubBoard())
      while true { firmware.poll() }
    }
    """

  static func tool(_ name: String) throws -> URL {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for folder in ["/opt/swift/usr/bin"] + path.split(separator: ":").map(String.init) {
      let candidate = URL(fileURLWithPath: folder).appendingPathComponent(name)
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "\(name) not found on PATH"])
  }

  /// Runs a tool to its end; returns its exit status and what it wrote (stdout and stderr, via a
  /// file: a pipe could fill up and stall it). Waits without holding a thread of the test pool.
  static func run(_ tool: URL, _ arguments: [String], in folder: URL) async throws -> (Int32, String) {
    let log = folder.appendingPathComponent("\(tool.lastPathComponent)-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let handle = try FileHandle(forWritingTo: log)
    defer { try? handle.close() }
    let process = Process()
    process.executableURL = tool
    process.arguments = arguments
    process.standardOutput = handle
    process.standardError = handle
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
      process.terminationHandler = { _ in continuation.resume() }
      do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
  }

  static func sources(_ module: String) throws -> [String] {
    let folder = root.appendingPathComponent("Sources/\(module)")
    return try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }.sorted()
      .map { folder.appendingPathComponent($0).path }
  }

  @Test(.timeLimit(.minutes(5)))
  func firmwareCompilesAsEmbeddedSwiftForCortexMAndFitsWithoutHeap() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stedi-fw-embedded-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let swiftc = try Self.tool("swiftc")
    let common = [
      "-target", "armv7em-none-none-eabi", "-enable-experimental-feature", "Embedded", "-wmo", "-parse-as-library",
      "-Osize", "-Xfrontend", "-disable-stack-protector", "-Xfrontend", "-function-sections", "-I", folder.path,
    ]
    let firmwareSources = try Self.sources("StepTrainerFirmware")
    #expect(firmwareSources.count >= 5)
    let stub = folder.appendingPathComponent("StubBoard.swift")
    try Self.stubBoard.write(to: stub, atomically: true, encoding: .utf8)
    let steps: [(module: String, files: [String], extra: [String])] = [
      ("Checksums", try Self.sources("Checksums"), []),
      ("StepTrainerProtocol", try Self.sources("StepTrainerProtocol"), []),
      ("StepTrainerFirmware", firmwareSources, []),
      ("FirmwareCheck", [stub.path], ["-enable-experimental-feature", "Extern"]),
    ]
    var objects: [String] = []
    for step in steps {
      let object = folder.appendingPathComponent("\(step.module).o").path
      let module = folder.appendingPathComponent("\(step.module).swiftmodule").path
      let (status, output) = try await Self.run(
        swiftc,
        common + step.extra + [
          "-module-name", step.module, "-emit-module", "-emit-module-path", module, "-c", "-o", object,
        ]
          + step.files, in: folder)
      #expect(status == 0, "Embedded Swift build of \(step.module) failed:\n\(output)")
      guard status == 0 else { return }
      objects.append(object)
    }
    // An ELF object for ARM (e_machine 40).
    let header = try FileHandle(forReadingFrom: URL(fileURLWithPath: objects[2])).readData(ofLength: 20)
    #expect(Array(header.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46])
    #expect(header[18] == 40)

    // Linked from the main loop with unused functions dropped: what would go into flash. The C
    // library's memcpy and the 64-bit division helpers are left unresolved (the board links them).
    let elf = folder.appendingPathComponent("firmware.elf").path
    let (linked, linkOutput) = try await Self.run(
      try Self.tool("ld.lld"),
      ["--gc-sections", "-e", "stedi_firmware_main", "--unresolved-symbols=ignore-all", "-o", elf] + objects,
      in: folder)
    #expect(linked == 0, "link failed:\n\(linkOutput)")
    let (listed, undefined) = try await Self.run(try Self.tool("llvm-nm"), ["-u", elf], in: folder)
    #expect(listed == 0)
    // No heap: nothing reachable from the main loop allocates.
    for symbol in ["swift_allocObject", "swift_slowAlloc", "posix_memalign", "malloc", "free"] {
      #expect(!undefined.split(separator: "\n").contains { $0.hasSuffix(" \(symbol)") }, "\(symbol) is referenced")
    }
    let (sized, sizes) = try await Self.run(try Self.tool("llvm-size"), [elf], in: folder)
    #expect(sized == 0)
    // "text data bss dec hex filename": flash is text + data, well under 32 KiB.
    let numbers = sizes.split(separator: "\n").dropFirst().first?.split(whereSeparator: \.isWhitespace)
      .compactMap { Int($0) }
    let flash = (numbers?.first ?? .max) &+ (numbers?.dropFirst().first ?? 0)
    #expect(flash < 24 * 1024, "flash \(flash) bytes:\n\(sizes)")
  }
}
