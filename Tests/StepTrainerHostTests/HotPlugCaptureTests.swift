import Foundation
import SerialPort
import StepTrainerProtocol
import StepTrainerSimulator
import Synchronization
import Testing

@testable import StepTrainerHost

/// Hot-plug on real pseudo-terminals: a capture that matches a link in a by-id style folder is
/// started before any device exists, and a simulated Step Trainer comes, goes (its link removed,
/// its pty closed) and comes back on another pty behind the same link name. What lands is compared
/// with the simulator's own log of every sample, not with wall-clock timings.
@Suite(.serialized) struct HotPlugCaptureTests {
  /// Every reading the capture hands on, in order; readable while the capture runs.
  final class RecordingDestination: CaptureDestination, Sendable {
    private let readings = Mutex<[CapturedReading]>([])
    var all: [CapturedReading] { readings.withLock { $0 } }
    var recordsWritten: Int { readings.withLock { $0.count } }
    var filesWritten: Int { 0 }
    var samplesWithoutDistance: Int { 0 }
    var pending: Int { 0 }
    var summaryOfWrites: String { "\(recordsWritten) readings" }
    func add(_ reading: CapturedReading, now: Int64) async throws { readings.withLock { $0.append(reading) } }
    func flushIfDue(now: Int64) async throws {}
    func flush() async throws {}
  }

  /// Values appended from other threads (the device's, the capture's), read by the test.
  final class Collected<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ new: [Value]) { values.withLock { $0 += new } }
    var all: [Value] { values.withLock { $0 } }
  }

  /// The capture's stop function, once it has installed it.
  final class StopSwitch: Sendable {
    private let stop = Mutex<(@Sendable () -> Void)?>(nil)
    func install(_ function: @escaping @Sendable () -> Void) { stop.withLock { $0 = function } }
    func callAsFunction() { stop.withLock { $0 }?() }
  }

  struct TimedOut: Error, CustomStringConvertible {
    let description: String
  }

  /// Polls `condition` until it holds; the bound is generous (the machine may be busy), the
  /// assertions are on counts and order.
  static func waitUntil(_ what: String, timeout: Duration = .seconds(90), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
      guard ContinuousClock.now < deadline else { throw TimedOut(description: "timed out waiting until \(what)") }
      try await Task.sleep(for: .milliseconds(20))
    }
  }

  /// Points `link` at `target` the way udev does: a new link renamed over the name, never half there.
  static func point(_ link: String, to target: String) throws {
    let url = URL(fileURLWithPath: link)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp").path
    unlink(temporary)
    try FileManager.default.createSymbolicLink(atPath: temporary, withDestinationPath: target)
    guard rename(temporary, link) == 0 else {
      throw TimedOut(description: "rename: \(String(cString: strerror(errno)))")
    }
  }

  /// Allocates pseudo-terminals until `path`'s number is taken (waiting first for it to be
  /// released), so that the next pty allocated cannot get that name; returns them, to close.
  static func holdPseudoTerminalNumber(of path: String) async throws -> [PseudoTerminal] {
    try await waitUntil("\(path) is released") { !FileManager.default.fileExists(atPath: path) }
    var held: [PseudoTerminal] = []
    while !FileManager.default.fileExists(atPath: path), held.count < 256 { held.append(try PseudoTerminal()) }
    return held
  }

  /// Whether a reading is exactly this sample of the device.
  static func same(_ reading: CapturedReading, _ sample: GeneratedSample) -> Bool {
    reading.index == sample.index && reading.deviceTimeMs == sample.deviceTimeMs
      && reading.distanceMm == sample.distanceMm && reading.status == sample.status
  }

  @Test func aCaptureWaitsForTheDeviceAndFollowsItToANewPseudoTerminal() async throws {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hot-plug-\(UUID())").path
    let byID = "\(scratch)/by-id"
    try FileManager.default.createDirectory(atPath: byID, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let options = SimulatorOptions(seed: 21, sampleRateCentihertz: 1600)
    let serial = options.effectiveSerialNumber.description
    let link = "\(byID)/usb-STEDI_Step_Trainer_\(serial)-if00"
    // Another device's link in the same folder, on a pty nobody answers on: the name pattern must
    // pass it by. Had the capture opened it, its CONNECT would be waiting there.
    let decoy = try PseudoTerminal()
    defer { decoy.close() }
    try Self.point("\(byID)/usb-Arduino_Uno_85736323930351F0D1C1-if00", to: decoy.slavePath)

    let connection = DeviceConnection(
      matching: .link(folder: byID, name: "usb-STEDI_*"), pollInterval: .milliseconds(50),
      backoff: .init(initial: .milliseconds(100), maximum: .seconds(1)))
    let destination = RecordingDestination()
    let notices = Collected<String>()
    let stop = StopSwitch()
    let capture = Task {
      let outcome = await CaptureRun(connection: connection, destination: destination, tick: .milliseconds(50)).run(
        installStop: { function in
          stop.install(function)
          return {}
        }, notice: { notices.append([$0]) })
      return (status: outcome.status, failure: outcome.failure.map { "\($0)" })
    }
    func waits() -> Int { notices.all.filter { $0.hasPrefix("waiting for") }.count }

    // No device yet: the capture says once what it waits for, and waits.
    try await Self.waitUntil("the capture waits") { waits() == 1 }
    try await Task.sleep(for: .milliseconds(500))
    #expect(notices.all == ["waiting for a device link in \(byID) named like 'usb-STEDI_*'"])

    // Plugged in: the device's pty appears, and its link after it.
    let samples = Collected<GeneratedSample>()
    let device = try PseudoTerminalDevice(options: options) { samples.append($0) }
    try device.start()
    let firstPath = device.slavePath
    try Self.point(link, to: firstPath)
    try await Self.waitUntil("30 readings from the first pty") { destination.recordsWritten >= 30 }
    // Everything the device has sent so far has arrived; then the cable is pulled.
    var sentBeforeUnplug = 0
    try await Self.waitUntil("every reading sent has arrived") {
      sentBeforeUnplug = device.counters.samplesSent
      return destination.recordsWritten == sentBeforeUnplug
    }
    unlink(link)
    device.unplug()
    try await Self.waitUntil("the capture waits again") { waits() == 2 }
    let landedFromFirst = destination.recordsWritten

    // Plugged in again: a fresh boot on a new pty (the freed number held meanwhile, so the kernel
    // cannot hand it out again), behind the same link name.
    let held = try await Self.holdPseudoTerminalNumber(of: firstPath)
    try device.replug()
    for terminal in held { terminal.close() }
    let secondPath = device.slavePath
    #expect(secondPath != firstPath)
    try Self.point(link, to: secondPath)
    try await Self.waitUntil("30 readings from the second pty") {
      destination.recordsWritten >= landedFromFirst + 30
    }
    // Unplugged for good; the capture is stopped once it is waiting again.
    unlink(link)
    device.stop()
    try await Self.waitUntil("the capture waits a third time") { waits() == 3 }
    stop()
    let outcome = await capture.value

    #expect(outcome.failure == nil, "\(outcome.failure ?? "")")
    let waiting = "waiting for a device link in \(byID) named like 'usb-STEDI_*'"
    #expect(
      notices.all == [waiting, "found \(firstPath) (\(link))", waiting, "found \(secondPath) (\(link))", waiting])
    let status = outcome.status
    #expect(status.port == secondPath, "the last port opened")
    #expect(status.device?.serialNumber == serial)
    #expect(status.reconnects >= 1)
    #expect(status.counters.lost == 0 && status.counters.duplicates == 0)
    #expect(try decoy.read(timeout: .milliseconds(50)).isEmpty, "the other device's port was never opened")

    // Each boot's readings are, in order, its first samples, none missing, none invented.
    let truth = samples.all
    let boots = truth.map(\.bootId).reduce(into: [UInt32]()) { if $0.last != $1 { $0.append($1) } }
    try #require(boots.count == 2, "two boots, one per plug-in: \(boots)")
    let firstBoot = truth.filter { $0.bootId == boots[0] }
    let secondBoot = truth.filter { $0.bootId == boots[1] }
    let landed = destination.all
    let fromFirst = zip(landed, firstBoot).prefix { Self.same($0, $1) }.count
    let rest = Array(landed.dropFirst(fromFirst))
    #expect(fromFirst == landedFromFirst, "the first pty's readings all came first")
    #expect(fromFirst >= sentBeforeUnplug, "everything sent before the unplug landed")
    #expect(rest.count >= 30 && rest.count <= secondBoot.count)
    #expect(zip(rest, secondBoot).allSatisfy { Self.same($0, $1) }, "the second boot's samples from its first on")
    // And against the device's own count of samples it put on the line: at most the one frame
    // that may have been in flight as each pty closed is missing.
    let sent = device.counters.samplesSent
    #expect((sent - 2...sent).contains(landed.count), "sent \(sent), landed \(landed.count)")
  }
}
