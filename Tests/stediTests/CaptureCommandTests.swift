import Foundation
import StediTestSupport
import Testing

/// End to end through real processes and a real tty: `stedi device simulate` speaks the protocol on
/// a pseudo-terminal, `stedi capture` reads it through libserialport (made to accept the pty by the
/// test shim, Tests/Shims) or, in the SIGINT test, through termios, the default for ptys; what
/// lands in the lake is compared with the simulator's own log of every sample.
@Suite(.serialized) struct CaptureCommandTests {
  static let serial = "5e1f00d2-3c4b-4a59-9687-a1b2c3d4e5f6"

  struct TruthSample {
    var bootId: Int
    var index: Int
    var deviceTimeMs: Int64
    var distanceMm: Int
    var status: String
  }

  struct Landed: Equatable {
    var time: Int64
    var serial: String
    var distance: Double
  }

  /// A running simulator and the pty path it printed.
  struct Simulator {
    let process: Process
    let path: String
    let log: String

    static func start(_ extra: [String], log: String) throws -> Simulator {
      let process = try StediProcess.start(
        ["device", "simulate", "--serial", CaptureCommandTests.serial, "--seed", "11", "--log", log] + extra)
      let output = (process.standardOutput as! Pipe).fileHandleForReading
      var line = Data()
      while let byte = try output.read(upToCount: 1), !byte.isEmpty, byte != Data([0x0A]) { line.append(byte) }
      let path = String(decoding: line, as: UTF8.self)
      guard path.hasPrefix("/") else {
        let errors = (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
        throw SimulatorFailed(message: "no device path; stderr: \(String(decoding: errors, as: UTF8.self))")
      }
      return Simulator(process: process, path: path, log: log)
    }

    /// Stops it (SIGTERM, a clean exit that flushes the log) and returns its samples.
    func stop() throws -> [TruthSample] {
      if process.isRunning { process.terminate() }
      process.waitUntilExit()
      let text = try String(contentsOfFile: log, encoding: .utf8)
      return try text.split(separator: "\n").map { line in
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        return TruthSample(
          bootId: (object["bootId"] as! NSNumber).intValue, index: (object["index"] as! NSNumber).intValue,
          deviceTimeMs: (object["deviceTimeMs"] as! NSNumber).int64Value,
          distanceMm: (object["distanceMm"] as! NSNumber).intValue, status: object["status"] as! String)
      }
    }
  }

  struct SimulatorFailed: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
  }

  /// The libserialport shim (see Tests/Shims): lets libserialport open a pseudo-terminal.
  static func shim(in folder: String) throws -> String {
    let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Shims/libserialport_pty_shim.c").path
    let output = "\(folder)/libserialport_pty_shim.so"
    let cc = Process()
    cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    cc.arguments = ["cc", "-shared", "-fPIC", "-O2", "-o", output, source, "-ldl"]
    try cc.run()
    cc.waitUntilExit()
    guard cc.terminationStatus == 0 else { throw SimulatorFailed(message: "cannot compile the shim") }
    return output
  }

  static func capture(_ arguments: [String], environment: [String: String] = [:]) throws -> (
    StediProcess.Outcome, [String: Any]
  ) {
    let outcome = try StediProcess.run(["capture", "--json"] + arguments, environment: environment)
    let summary = (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]) ?? [:]
    return (outcome, summary)
  }

  static func landed(_ lake: String) throws -> [Landed] {
    let folder = "\(lake)/step_trainer/landing"
    let names = try FileManager.default.contentsOfDirectory(atPath: folder)
    #expect(!names.contains { $0.hasPrefix(".") }, "no temporary files left behind")
    var records: [Landed] = []
    for name in names where name.hasSuffix(".json") {
      for line in try String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8).split(separator: "\n") {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        #expect(Set(object.keys) == ["sensorReadingTime", "serialNumber", "distanceFromObject"])
        records.append(
          Landed(
            time: (object["sensorReadingTime"] as! NSNumber).int64Value, serial: object["serialNumber"] as! String,
            distance: (object["distanceFromObject"] as! NSNumber).doubleValue))
      }
    }
    return records.sorted { $0.time < $1.time }
  }

  /// Whether `landed` is, in order, a subsequence of the simulator's ok samples of one boot with
  /// the same distances and the same spacing in time (device time maps to wall-clock time by one
  /// offset, give or take a few ms as time sync refines it). Returns the matched truth indexes.
  static func match(_ landed: [Landed], in truth: [TruthSample]) -> [Int]? {
    let ok = truth.enumerated().filter { $0.element.status == "ok" }
    guard let first = landed.first else { return [] }
    for (start, anchor) in ok.enumerated() where Double(anchor.element.distanceMm) / 10 == first.distance {
      var matched = [anchor.offset]
      var cursor = start + 1
      for record in landed.dropFirst() {
        while cursor < ok.count {
          let candidate = ok[cursor].element
          let expectedTime = first.time + (candidate.deviceTimeMs - anchor.element.deviceTimeMs)
          cursor += 1
          if candidate.bootId == anchor.element.bootId, Double(candidate.distanceMm) / 10 == record.distance,
            abs(expectedTime - record.time) <= 5
          {
            matched.append(ok[cursor - 1].offset)
            break
          }
        }
      }
      if matched.count == landed.count { return matched }
    }
    return nil
  }

  @Test func capturesASimulatedDeviceThroughLibserialport() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let shim = try Self.shim(in: scratch.path)
    let simulator = try Simulator.start(["--rate", "16", "--duration", "60"], log: "\(scratch.path)/truth.ndjson")
    let before = Int64(Date().timeIntervalSince1970 * 1000)
    let (outcome, summary) = try Self.capture(
      ["--port", simulator.path, "--lake", "\(scratch.path)/lake", "--duration", "4", "--batch-records", "20"],
      environment: ["LD_PRELOAD": shim, "STEDI_SERIAL_BACKEND": "libserialport"])
    let after = Int64(Date().timeIntervalSince1970 * 1000)
    let truth = try simulator.stop()
    #expect(outcome.status == 0, "capture failed: \(outcome.stderr)")

    let landed = try Self.landed("\(scratch.path)/lake")
    #expect(summary["serialNumber"] as? String == Self.serial)
    #expect(summary["landed"] as? Int == landed.count)
    #expect((summary["files"] as? Int ?? 0) >= landed.count / 20, "committed in batches of 20")
    #expect(summary["lost"] as? Int == 0 && summary["duplicates"] as? Int == 0)
    #expect(summary["missingFrames"] as? Int == 0 && summary["repeatedFrames"] as? Int == 0)
    #expect(((summary["frames"] as? [String: Any])?["bytesDiscarded"] as? Int) == 0)
    // About 4 s at 16 Hz after the handshake.
    #expect((45...70).contains(landed.count), "\(landed.count) readings landed")
    #expect(landed.allSatisfy { $0.serial == Self.serial })
    #expect(landed.allSatisfy { $0.time >= before - 50 && $0.time <= after + 50 }, "times are wall-clock epoch ms")
    // Every reading is exactly a sample the device took, none missing in between: consecutive.
    let matched = try #require(Self.match(landed, in: truth), "landed readings must be the simulator's samples")
    let okPositions = truth.indices.filter { truth[$0].status == "ok" }
    let span = okPositions.filter { $0 >= matched.first! && $0 <= matched.last! }
    #expect(span.count == matched.count, "no ok sample between the first and last landed one is missing")
    // Samples without a valid distance were counted, not landed.
    let status = summary["status"] as? [String: Int] ?? [:]
    #expect(status["ok"] == landed.count)
    #expect(
      summary["withoutDistance"] as? Int == (status["noEcho"] ?? 0) + (status["outOfRange"] ?? 0)
        + (status["sensorFault"] ?? 0))

    // The pipeline accepts every landed line.
    let pipeline = try StediProcess.run(["pipeline", "run", "--lake", "\(scratch.path)/lake", "--json"])
    #expect(pipeline.status == 0, "\(pipeline.stderr)")
    let funnel = try JSONSerialization.jsonObject(with: Data(pipeline.stdout.utf8)) as? [String: Any]
    #expect((funnel?["tables"] as? [String: Int])?["step_trainer_landing"] == landed.count)
    #expect((funnel?["quarantined"] as? [String: Int])?["step_trainer"] == 0)
  }

  /// `stedi capture --ingest`: the same readings reach landing through `stedi serve`, and a token
  /// for another serial number stops the capture with the service's refusal.
  @Test func capturesIntoTheIngestService() async throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = "\(scratch.path)/lake"
    let token = try StediProcess.run(["token", "issue", "--lake", lake, "--device", Self.serial])
    let otherToken = try StediProcess.run(["token", "issue", "--lake", lake, "--device", "someone-else"])
    #expect(token.status == 0 && otherToken.status == 0, "\(token.stderr)")
    let service = try await ServeProcess.start(["--lake", lake, "--batch-max-age", "600"])
    let simulator = try Simulator.start(["--rate", "16", "--duration", "60"], log: "\(scratch.path)/truth.ndjson")
    let (outcome, summary) = try Self.capture([
      "--port", simulator.path, "--ingest", service.baseURL, "--token",
      token.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--duration", "4", "--batch-records", "20",
    ])
    let refused = try StediProcess.run([
      "capture", "--port", simulator.path, "--ingest", service.baseURL, "--token",
      otherToken.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--duration", "3", "--batch-records", "5",
    ])
    let truth = try simulator.stop()
    let (status, stderr) = await service.stop()
    #expect(status == 0, "\(stderr)")
    #expect(outcome.status == 0, "capture failed: \(outcome.stderr)")
    let landed = try Self.landed(lake)
    #expect(summary["landed"] as? Int == landed.count)
    #expect((45...70).contains(landed.count), "\(landed.count) readings landed")
    let matched = try #require(Self.match(landed, in: truth), "landed readings must be the simulator's samples")
    #expect(matched.count == landed.count)
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("HTTP 403") && refused.stderr.contains("wrong_serial"), "\(refused.stderr)")
  }

  @Test func lineNoiseAndADeviceRebootNeverBecomeWrongReadings() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    // The shim first: compiling it takes seconds on a loaded machine, and the device reboots 3 s
    // after it starts, which must fall inside the capture.
    let shim = try Self.shim(in: scratch.path)
    let simulator = try Simulator.start(
      ["--rate", "16", "--duration", "60", "--noise", "240", "--bit-flips", "0.05", "--restart-after", "3"],
      log: "\(scratch.path)/truth.ndjson")
    let (outcome, summary) = try Self.capture(
      [
        "--port", simulator.path, "--lake", "\(scratch.path)/lake", "--duration", "6", "--raw",
        "\(scratch.path)/raw.ndjson",
      ], environment: ["LD_PRELOAD": shim, "STEDI_SERIAL_BACKEND": "libserialport"])
    let truth = try simulator.stop()
    #expect(outcome.status == 0, "capture failed: \(outcome.stderr)")
    let landed = try Self.landed("\(scratch.path)/lake")
    let frames = summary["frames"] as? [String: Any] ?? [:]
    #expect((frames["bytesDiscarded"] as? Int ?? 0) > 0, "the noise reached the host")
    #expect(summary["restarts"] as? Int == 1, "the reboot was noticed: \(summary)")
    #expect(landed.count > 40)
    // Each boot's readings are, in order, samples the device took with their distances.
    let boots = Set(truth.map(\.bootId)).sorted()
    #expect(boots.count == 2)
    var matchedTotal = 0
    var remaining = landed
    for boot in boots {
      let bootTruth = truth.filter { $0.bootId == boot }
      // The readings of this boot are a prefix of what is left (boots follow each other in time).
      var best: [Int] = []
      for length in stride(from: remaining.count, through: 1, by: -1) {
        if let matched = Self.match(Array(remaining.prefix(length)), in: bootTruth) {
          best = matched
          break
        }
      }
      #expect(!best.isEmpty, "readings of boot \(boot) must match its samples")
      matchedTotal += best.count
      remaining.removeFirst(best.count)
    }
    #expect(
      matchedTotal == landed.count, "every landed reading is a real sample: \(landed.count - matchedTotal) are not")

    // The raw capture replays into exactly the same landing files.
    let replay = try StediProcess.run(["replay", "\(scratch.path)/raw.ndjson", "--lake", "\(scratch.path)/replayed"])
    #expect(replay.status == 0, "\(replay.stderr)")
    let live = try FileManager.default.contentsOfDirectory(atPath: "\(scratch.path)/lake/step_trainer/landing").sorted()
    let again = try FileManager.default.contentsOfDirectory(atPath: "\(scratch.path)/replayed/step_trainer/landing")
      .sorted()
    #expect(live == again)
    for name in live {
      #expect(
        FileManager.default.contents(atPath: "\(scratch.path)/lake/step_trainer/landing/\(name)")
          == FileManager.default.contents(atPath: "\(scratch.path)/replayed/step_trainer/landing/\(name)"), "\(name)")
    }
  }

  @Test func aPortThatClosesAndComesBackIsReconnected() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let link = "\(scratch.path)/stepTrainer"
    let first = try Simulator.start(["--rate", "10", "--link", link], log: "\(scratch.path)/first.ndjson")
    let shim = try Self.shim(in: scratch.path)
    let capture = try StediProcess.start(
      ["capture", "--json", "--port", link, "--lake", "\(scratch.path)/lake", "--duration", "9"],
      environment: ["LD_PRELOAD": shim, "STEDI_SERIAL_BACKEND": "libserialport"])
    Thread.sleep(forTimeInterval: 3)
    _ = try first.stop()
    Thread.sleep(forTimeInterval: 1)
    let second = try Simulator.start(["--rate", "10", "--link", link], log: "\(scratch.path)/second.ndjson")
    capture.waitUntilExit()
    _ = try second.stop()
    let stdout = (capture.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
    let stderr = (capture.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
    #expect(capture.terminationStatus == 0, "\(String(decoding: stderr, as: UTF8.self))")
    let summary = try JSONSerialization.jsonObject(with: stdout) as? [String: Any] ?? [:]
    #expect((summary["reconnects"] as? Int ?? 0) >= 1, "\(summary)")
    let landed = try Self.landed("\(scratch.path)/lake")
    // Readings from both devices' sessions: a gap of about a second between them.
    let gaps = zip(landed, landed.dropFirst()).map { $1.time - $0.time }
    #expect(gaps.contains { $0 > 800 }, "a pause while the port was gone")
    #expect(landed.count > 40)
  }

  @Test func interruptCommitsWhatWasCaptured() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let simulator = try Simulator.start(["--rate", "16"], log: "\(scratch.path)/truth.ndjson")
    let capture = try StediProcess.start(
      [
        "capture", "--json", "--port", simulator.path, "--lake", "\(scratch.path)/lake", "--batch-records", "100000",
        "--batch-seconds", "3600",
      ])
    Thread.sleep(forTimeInterval: 2.5)
    kill(capture.processIdentifier, SIGINT)
    capture.waitUntilExit()
    _ = try simulator.stop()
    #expect(capture.terminationStatus == 0)
    let summary =
      try JSONSerialization.jsonObject(
        with: (capture.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()) as? [String: Any] ?? [:]
    let landed = try Self.landed("\(scratch.path)/lake")
    #expect(landed.count > 15, "the open batch was committed on SIGINT")
    #expect(summary["landed"] as? Int == landed.count)
  }

  @Test func deviceListPrintsThePortsAsJSON() throws {
    let outcome = try StediProcess.run(["device", "list", "--json"])
    #expect(outcome.status == 0, "\(outcome.stderr)")
    let ports = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]])
    for port in ports {
      #expect((port["path"] as? String)?.hasPrefix("/dev/") == true)
      #expect(["native", "usb", "bluetooth"].contains(port["transport"] as? String ?? ""))
      if port["transport"] as? String == "usb" { #expect(port["usbVendorId"] is String) }
    }
  }
}
