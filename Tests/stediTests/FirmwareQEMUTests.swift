import Foundation
import StediTestSupport
import Testing

/// The firmware as a Step Trainer runs it: built for a Cortex-M4 (`make -C firmware-protocol/firmware`),
/// booted in QEMU's mps2-an386 with its UART0 on a pseudo-terminal, and read by `stedi capture`
/// through the same serial path as a USB device. `scripts/test.sh` installs qemu-system-arm.
@Suite(.serialized) struct FirmwareQEMUTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  /// The serial number the QEMU board layer reports (firmware-protocol/firmware/Board/MPS2Board.swift).
  static let serial = "5e3d1f0a-7b42-4c9e-9a61-0e2f4b8c7d35"

  struct Failure: Error, CustomStringConvertible { let description: String }

  static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
  }

  /// QEMU running the firmware, and the pty its UART0 is on.
  struct Emulator {
    let process: Process
    let pty: String

    static func boot(log: String) throws -> Emulator {
      let (status, output) = try FirmwareQEMUTests.run(
        "make", ["-C", root.appendingPathComponent("firmware-protocol/firmware").path])
      guard status == 0 else { throw Failure(description: "firmware build failed:\n\(output)") }
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [
        "qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "pty", "-kernel",
        root.appendingPathComponent("firmware-protocol/firmware/build/fw.elf").path,
      ]
      FileManager.default.createFile(atPath: log, contents: nil)
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
      process.standardOutput = handle
      process.standardError = handle
      process.standardInput = FileHandle.nullDevice
      try process.run()
      // QEMU names the pty on stdout (7.2) or stderr (others): "char device redirected to /dev/pts/N (label serial0)".
      for _ in 0..<100 {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        if let range = text.range(of: #"/dev/pts/[0-9]+"#, options: .regularExpression) {
          return Emulator(process: process, pty: String(text[range]))
        }
        guard process.isRunning else { throw Failure(description: "QEMU exited: \(text)") }
        Thread.sleep(forTimeInterval: 0.1)
      }
      process.terminate()
      throw Failure(description: "QEMU named no pty")
    }

    /// Ends the emulator. SIGKILL: QEMU has nothing to save, and it does not always act on SIGTERM
    /// when started from a test process (seen here: it kept running with SIGTERM blocked).
    func stop() {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
  }

  struct Landed {
    var time: Int64
    var serial: String
    var distance: Double
  }

  static func landed(_ lake: String) throws -> [Landed] {
    let folder = "\(lake)/step_trainer/landing"
    var records: [Landed] = []
    for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".json") {
      for line in try String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8).split(separator: "\n") {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        records.append(
          Landed(
            time: (object["sensorReadingTime"] as! NSNumber).int64Value, serial: object["serialNumber"] as! String,
            distance: (object["distanceFromObject"] as! NSNumber).doubleValue))
      }
    }
    return records.sorted { $0.time < $1.time }
  }

  static func median(_ values: [Int64]) -> Int64 { values.sorted()[values.count / 2] }

  /// One CPU-burning process per core, started and ended by the test itself: the host as busy as a
  /// CI machine running other jobs, so the emulator only gets a share of a core.
  struct BusyLoops {
    let processes: [Process]

    static func start() throws -> BusyLoops {
      var processes: [Process] = []
      for _ in 0..<ProcessInfo.processInfo.activeProcessorCount {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "while :; do :; done"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        processes.append(process)
      }
      return BusyLoops(processes: processes)
    }

    /// Ends exactly the processes `start` began (by pid), and waits for them.
    func stop() {
      for process in processes where process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
      }
    }
  }

  /// A capture run with 600 bytes of line noise sent into the firmware's UART 3 s in (the pty's
  /// host side is open in the capture too; the kernel hands the device both writers' bytes).
  struct NoisyCapture {
    /// When the noise was sent, wall-clock epoch ms.
    var noiseAt: Int64
    /// Whether the pty could be opened for the noise.
    var noiseSent: Bool
    var status: Int32
    var summary: [String: Any]
    var stderr: String

    static func run(_ arguments: [String]) throws -> NoisyCapture {
      let capture = try StediProcess.start(arguments)
      Thread.sleep(forTimeInterval: 3)
      let noiseAt = Int64(Date().timeIntervalSince1970 * 1000)
      let pty = arguments[arguments.firstIndex(of: "--port")! + 1]
      let noise = FileHandle(forWritingAtPath: pty)
      var random = SystemRandomNumberGenerator()
      noise?.write(Data((0..<600).map { _ in UInt8.random(in: 0...255, using: &random) }))
      try? noise?.close()
      capture.waitUntilExit()
      let stdout = (capture.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
      let stderr = (capture.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
      return NoisyCapture(
        noiseAt: noiseAt, noiseSent: noise != nil, status: capture.terminationStatus,
        summary: try JSONSerialization.jsonObject(with: stdout) as? [String: Any] ?? [:],
        stderr: String(decoding: stderr, as: UTF8.self))
    }
  }

  @Test func captureReadsTheEmulatedFirmwareIntoTheLake() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let emulator = try Emulator.boot(log: "\(scratch.path)/qemu.log")
    defer { emulator.stop() }
    let before = Int64(Date().timeIntervalSince1970 * 1000)
    let outcome = try StediProcess.run([
      "capture", "--json", "--port", emulator.pty, "--lake", "\(scratch.path)/lake", "--duration", "5",
    ])
    let after = Int64(Date().timeIntervalSince1970 * 1000)
    #expect(outcome.status == 0, "\(outcome.stderr)")
    let summary = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
    #expect(summary["serialNumber"] as? String == Self.serial)
    // Every frame decoded with a valid CRC; no sample index missing or repeated.
    let frames = summary["frames"] as? [String: Any] ?? [:]
    #expect((frames["rejected"] as? [String: Int])?.values.reduce(0, +) == 0)
    #expect(frames["bytesDiscarded"] as? Int == 0)
    #expect(summary["lost"] as? Int == 0 && summary["duplicates"] as? Int == 0)
    // No frame sequence number dropped or repeated either.
    #expect(summary["missingFrames"] as? Int == 0 && summary["repeatedFrames"] as? Int == 0)
    let landed = try Self.landed("\(scratch.path)/lake")
    #expect(summary["landed"] as? Int == landed.count)
    #expect(landed.allSatisfy { $0.serial == Self.serial && (2...400).contains($0.distance) })
    // 10 Hz: readings 100 ms apart in wall-clock epoch ms, increasing, within the capture's window.
    #expect(landed.count >= 30, "\(landed.count) readings in 5 s")
    let gaps = zip(landed, landed.dropFirst()).map { $1.time - $0.time }
    #expect(gaps.allSatisfy { $0 > 0 }, "device time maps to increasing wall-clock time")
    #expect((95...105).contains(Self.median(gaps)), "median spacing \(Self.median(gaps)) ms")
    #expect(landed.first!.time >= before - 1000 && landed.last!.time <= after + 100)

    let pipeline = try StediProcess.run(["pipeline", "run", "--lake", "\(scratch.path)/lake", "--json"])
    #expect(pipeline.status == 0, "\(pipeline.stderr)")
    let funnel = try JSONSerialization.jsonObject(with: Data(pipeline.stdout.utf8)) as? [String: Any]
    #expect((funnel?["tables"] as? [String: Int])?["step_trainer_landing"] == landed.count)
    #expect((funnel?["quarantined"] as? [String: Int])?["step_trainer"] == 0)
  }

  @Test func theFirmwareTakesAConfigurationAndSurvivesGarbage() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let emulator = try Emulator.boot(log: "\(scratch.path)/qemu.log")
    defer { emulator.stop() }
    let capture = try NoisyCapture.run([
      "capture", "--json", "--port", emulator.pty, "--lake", "\(scratch.path)/lake", "--duration", "7", "--rate", "16",
    ])
    let (noiseAt, summary) = (capture.noiseAt, capture.summary)
    #expect(capture.status == 0, "\(capture.stderr)")
    #expect(capture.noiseSent, "could not open \(emulator.pty) for the noise")
    #expect(summary["serialNumber"] as? String == Self.serial)
    let landed = try Self.landed("\(scratch.path)/lake")
    let gaps = zip(landed, landed.dropFirst()).map { $1.time - $0.time }
    // The configuration took: 16 Hz is 62.5 ms apart.
    #expect((60...65).contains(Self.median(gaps)), "median spacing \(Self.median(gaps)) ms")
    // It kept working after the garbage: readings until the capture ended, no gap over half a second.
    #expect(landed.count >= 40, "\(landed.count) readings")
    #expect((landed.last?.time ?? 0) > noiseAt + 2000, "readings more than 2 s after the garbage")
    #expect(gaps.allSatisfy { $0 < 500 }, "largest gap \(gaps.max() ?? 0) ms")
    #expect(summary["lost"] as? Int == 0 && summary["duplicates"] as? Int == 0 && summary["reconnects"] as? Int == 0)
  }

  /// The same session beside a CPU-heavy job (one busy loop per core). Only what the firmware and
  /// the capture control is asserted exactly (every reading arrives once, in order, nothing lost
  /// after garbage); timing is judged by the device's own clock, which follows host time even when
  /// the emulator is starved, and otherwise with generous bounds.
  @Test func theFirmwareKeepsEveryReadingBesideACPUHeavyJob() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    // Built before the load starts, so the compiler is not what the busy loops slow down.
    let (built, buildOutput) = try Self.run(
      "make", ["-C", Self.root.appendingPathComponent("firmware-protocol/firmware").path])
    #expect(built == 0, "\(buildOutput)")
    let busy = try BusyLoops.start()
    defer { busy.stop() }
    let emulator = try Emulator.boot(log: "\(scratch.path)/qemu.log")
    defer { emulator.stop() }
    let seconds = 8
    let before = Int64(Date().timeIntervalSince1970 * 1000)
    let capture = try NoisyCapture.run([
      "capture", "--json", "--port", emulator.pty, "--lake", "\(scratch.path)/lake", "--duration", "\(seconds)",
    ])
    let after = Int64(Date().timeIntervalSince1970 * 1000)
    busy.stop()
    let (noiseAt, summary) = (capture.noiseAt, capture.summary)
    #expect(capture.status == 0, "\(capture.stderr)")
    #expect(capture.noiseSent, "could not open \(emulator.pty) for the noise")
    #expect(summary["serialNumber"] as? String == Self.serial)
    // Nothing lost, repeated or reordered, before or after the garbage; no frame the device sent rejected.
    #expect(summary["lost"] as? Int == 0 && summary["duplicates"] as? Int == 0 && summary["reconnects"] as? Int == 0)
    #expect(summary["missingFrames"] as? Int == 0 && summary["repeatedFrames"] as? Int == 0)
    let landed = try Self.landed("\(scratch.path)/lake")
    #expect(summary["landed"] as? Int == landed.count)
    #expect(landed.allSatisfy { $0.serial == Self.serial && (2...400).contains($0.distance) })
    let gaps = zip(landed, landed.dropFirst()).map { $1.time - $0.time }
    #expect(gaps.allSatisfy { $0 > 0 }, "device time maps to increasing wall-clock time")
    // 10 Hz by the device's clock: the median spacing holds even if a starved emulator samples late
    // now and then; a clock that lost ticks would stretch it.
    #expect((90...110).contains(Self.median(gaps)), "median spacing \(Self.median(gaps)) ms")
    // Readings across the whole capture (generous: at least half the 10 Hz slots), still coming
    // well after the garbage, never a long silence, and inside the capture's wall-clock window.
    #expect(landed.count >= seconds * 10 / 2, "\(landed.count) readings in \(seconds) s")
    #expect((landed.last?.time ?? 0) > noiseAt + 2000, "readings more than 2 s after the garbage")
    #expect(gaps.allSatisfy { $0 < 2000 }, "largest gap \(gaps.max() ?? 0) ms")
    #expect((landed.first?.time ?? 0) >= before - 2000 && (landed.last?.time ?? .max) <= after + 1000)
  }
}
