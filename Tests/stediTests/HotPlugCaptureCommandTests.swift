import Foundation
import StediTestSupport
import Testing

/// `stedi capture --port auto --by-id DIR`: real processes, real ptys, real links. The capture
/// starts before any device exists, and two `stedi device simulate --link` runs follow each other
/// behind the same link name, each on its own pty.
extension CaptureCommandTests {
  /// A process's stderr, read as it comes (the capture's notices are what the test waits for).
  final class StreamedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    init(_ pipe: Pipe) {
      let handle = pipe.fileHandleForReading
      Thread.detachNewThread { [self] in
        while true {
          let chunk = handle.availableData
          if chunk.isEmpty { break }
          lock.withLock { data.append(chunk) }
        }
      }
    }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    var lines: [String] { text.split(separator: "\n").map(String.init) }
  }

  /// Opens pseudo-terminals until `path`'s number is taken (waiting first for it to be released),
  /// so that the next pty allocated cannot get that name; returns their descriptors, to close.
  static func holdPseudoTerminalNumber(of path: String) throws -> [Int32] {
    try waitUntil("\(path) is released") { !FileManager.default.fileExists(atPath: path) }
    var held: [Int32] = []
    while !FileManager.default.fileExists(atPath: path), held.count < 256 {
      let descriptor = open("/dev/ptmx", O_RDWR | O_NOCTTY)
      guard descriptor >= 0 else { break }
      held.append(descriptor)
    }
    return held
  }

  static func waitUntil(_ what: String, timeout: TimeInterval = 90, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
      guard Date() < deadline else { throw SimulatorFailed(message: "timed out waiting until \(what)") }
      Thread.sleep(forTimeInterval: 0.05)
    }
  }

  /// The sample counts `stedi device simulate` prints at exit: samples taken, and sent.
  static func sentCount(_ simulator: Simulator) -> Int? {
    let stderr = (simulator.process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
    let text = String(decoding: stderr, as: UTF8.self)
    guard let range = text.range(of: #"sent (\d+)"#, options: .regularExpression) else { return nil }
    return Int(text[range].dropFirst("sent ".count))
  }

  @Test func portAutoWaitsForTheDeviceAndFollowsItsLinkToANewPty() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let byID = "\(scratch.path)/by-id"
    try FileManager.default.createDirectory(atPath: byID, withIntermediateDirectories: true)
    let link = "\(byID)/usb-STEDI_Step_Trainer_\(Self.serial)-if00"
    let capture = try StediProcess.start([
      "capture", "--json", "--port", "auto", "--by-id", byID, "--link-name", "usb-STEDI_Step_Trainer_",
      "--lake", "\(scratch.path)/lake", "--batch-records", "100000", "--batch-seconds", "3600",
    ])
    defer { if capture.isRunning { capture.terminate() } }
    let stderr = StreamedOutput(capture.standardError as! Pipe)
    let waiting = "stedi: waiting for a device link in \(byID) named like 'usb-STEDI_Step_Trainer_'"
    func count(_ prefix: String) -> Int { stderr.lines.filter { $0.hasPrefix(prefix) }.count }

    try Self.waitUntil("the capture waits") { count(waiting) == 1 }
    let first = try Simulator.start(["--rate", "16", "--link", link], log: "\(scratch.path)/first.ndjson")
    let firstPty = try FileManager.default.destinationOfSymbolicLink(atPath: link)
    try Self.waitUntil("the capture finds the first pty") { count("stedi: found") == 1 }
    Thread.sleep(forTimeInterval: 3)
    // SIGTERM: the simulator closes its pty and removes its link, an unplug.
    let firstTruth = try first.stop()
    let sentByFirst = Self.sentCount(first)
    try Self.waitUntil("the capture waits again") { count(waiting) == 2 }

    // Another device (another seed, the same serial number) on another pty: the freed pty number
    // is held while it starts, or the kernel would hand it out again.
    let held = try Self.holdPseudoTerminalNumber(of: firstPty)
    let second = try Simulator.start(
      ["--rate", "16", "--link", link, "--seed", "12"], log: "\(scratch.path)/second.ndjson")
    for descriptor in held { close(descriptor) }
    let secondPty = try FileManager.default.destinationOfSymbolicLink(atPath: link)
    #expect(secondPty != firstPty)
    try Self.waitUntil("the capture finds the second pty") { count("stedi: found") == 2 }
    Thread.sleep(forTimeInterval: 3)
    kill(capture.processIdentifier, SIGINT)
    capture.waitUntilExit()
    let secondTruth = try second.stop()
    let sentBySecond = Self.sentCount(second)

    #expect(capture.terminationStatus == 0, "\(stderr.text)")
    let notices = stderr.lines.filter { $0.hasPrefix("stedi: waiting") || $0.hasPrefix("stedi: found") }
    #expect(notices == [waiting, "stedi: found \(firstPty) (\(link))", waiting, "stedi: found \(secondPty) (\(link))"])
    let stdout = (capture.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
    let summary = try JSONSerialization.jsonObject(with: stdout) as? [String: Any] ?? [:]
    #expect(summary["port"] as? String == secondPty, "the last port opened")
    #expect(summary["serialNumber"] as? String == Self.serial)
    #expect((summary["reconnects"] as? Int ?? 0) >= 1, "\(summary)")
    #expect(summary["lost"] as? Int == 0 && summary["duplicates"] as? Int == 0)

    // The first device's readings, then the second's, split where the capture waited (the
    // longest pause; within one device readings are a sample period or two apart). Each part is,
    // in order, the ok samples its device took from its first on: none skipped, none invented.
    let landed = try Self.landed("\(scratch.path)/lake")
    #expect(summary["landed"] as? Int == landed.count)
    let gaps = zip(landed, landed.dropFirst()).map { $1.time - $0.time }
    let split = (gaps.indices.max { gaps[$0] < gaps[$1] } ?? -1) + 1
    for (part, truth) in [(landed[..<split], firstTruth), (landed[split...], secondTruth)] {
      let ok = truth.filter { $0.status == "ok" }.map { Double($0.distanceMm) / 10 }
      #expect(part.count >= 20, "readings from each device: \(part.count)")
      #expect(part.map(\.distance) == Array(ok.prefix(part.count)), "the device's ok samples from its first on")
    }
    // Against the simulators' own counts of samples put on the line: at most the frame in flight
    // as each port closed is missing.
    let readings = summary["readings"] as? Int ?? -1
    if let sentByFirst, let sentBySecond {
      let sent = sentByFirst + sentBySecond
      #expect((sent - 2...sent).contains(readings), "sent \(sent), captured \(readings)")
    } else {
      Issue.record("the simulators' summaries give no sent count")
    }
  }

  @Test func portAutoRefusesToGuessBetweenTwoMatchingDevices() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let byID = "\(scratch.path)/by-id"
    try FileManager.default.createDirectory(atPath: byID, withIntermediateDirectories: true)
    // Any two devices do: the capture must stop before opening either.
    try FileManager.default.createSymbolicLink(atPath: "\(byID)/usb-STEDI_a-if00", withDestinationPath: "/dev/null")
    try FileManager.default.createSymbolicLink(atPath: "\(byID)/usb-STEDI_b-if00", withDestinationPath: "/dev/zero")
    // A second interface's link to the same device is not a second device.
    try FileManager.default.createSymbolicLink(atPath: "\(byID)/usb-STEDI_b-if02", withDestinationPath: "/dev/zero")
    let outcome = try StediProcess.run([
      "capture", "--port", "auto", "--by-id", byID, "--link-name", "usb-STEDI_*", "--lake", "\(scratch.path)/lake",
      "--duration", "60",
    ])
    #expect(outcome.status == 2)
    #expect(
      outcome.stderr.contains(
        "more than one port matches a device link in \(byID) named like 'usb-STEDI_*': "
          + "/dev/null (\(byID)/usb-STEDI_a-if00), /dev/zero (\(byID)/usb-STEDI_b-if00)"), "\(outcome.stderr)")
    let invalid = try StediProcess.run([
      "capture", "--port", "/dev/ttyACM0", "--usb", "2e8a:000a", "--lake", scratch.path,
    ])
    #expect(invalid.status == 64 && invalid.stderr.contains("go with --port auto"), "\(invalid.stderr)")
  }
}
