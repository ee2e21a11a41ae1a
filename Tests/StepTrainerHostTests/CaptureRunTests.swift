import Foundation
import Lakehouse
import SerialPort
import StepTrainerProtocol
import StepTrainerSimulator
import Synchronization
import Testing

@testable import StepTrainerHost

/// The capture loop in process: a simulated device on an in-memory link, its readings into a
/// landing folder (or a destination that fails), stopped by its duration, its stop function or the failure.
@Suite struct CaptureRunTests {
  /// The stop function a capture installs, for the test to call.
  final class StopSwitch: @unchecked Sendable {
    var stop: (@Sendable () -> Void)?
    var uninstalled = false
  }

  /// A destination that takes `limit` readings and then refuses.
  final class FailingDestination: CaptureDestination {
    struct Refused: Error {}
    let limit: Int
    var recordsWritten = 0
    var filesWritten = 0
    var samplesWithoutDistance = 0
    var pending = 0
    var flushes = 0
    var summaryOfWrites: String { "\(recordsWritten) readings" }
    init(limit: Int) { self.limit = limit }
    func add(_ reading: CapturedReading, now: Int64) async throws {
      guard recordsWritten < limit else { throw Refused() }
      recordsWritten += 1
    }
    func flushIfDue(now: Int64) async throws {}
    func flush() async throws { flushes += 1 }
  }

  static func simulatedConnection(seed: UInt64) -> (DeviceConnection, SharedDevice, Task<Void, Never>) {
    let (hostEnd, deviceEnd) = InMemoryTransport.pair()
    let device = SharedDevice(SimulatorOptions(seed: seed, sampleRateCentihertz: 1600))
    let deviceTask = DeviceSessionTests.runDevice(deviceEnd, device)
    let connection = DeviceConnection(path: "memory", open: { _ in hostEnd })
    return (connection, device, deviceTask)
  }

  static func landedLines(_ lake: String) throws -> [String] {
    let folder = "\(lake)/step_trainer/landing"
    return try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.flatMap {
      try String(contentsOfFile: "\(folder)/\($0)", encoding: .utf8).split(separator: "\n").map(String.init)
    }
  }

  @Test func aTimedCaptureLandsEveryReadingWithADistanceAndCountsTheRest() async throws {
    let lake = FileManager.default.temporaryDirectory.appendingPathComponent("capture-run-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: lake) }
    let (connection, device, deviceTask) = Self.simulatedConnection(seed: 7)
    defer { deviceTask.cancel() }
    let writer = LandingCaptureWriter(lake: lake, maxRecords: 8)
    let outcome = await CaptureRun(connection: connection, destination: writer, duration: .milliseconds(1500)).run()
    #expect(outcome.failure == nil)
    let status = outcome.status
    #expect(status.port == "memory")
    let serial = device.withLock { $0.serialNumber.description }
    #expect(status.device?.serialNumber == serial)
    #expect(status.counters.readings > 0)
    #expect(status.counters.readings == writer.recordsWritten + writer.samplesWithoutDistance, "none lost on the way")
    #expect(writer.pending == 0, "the last batch is committed at the end")
    let lines = try Self.landedLines(lake)
    #expect(lines.count == writer.recordsWritten)
    #expect(writer.filesWritten == (writer.recordsWritten + 7) / 8)
    #expect(status.summary(writer: writer, raw: nil).contains("landed        \(writer.recordsWritten) readings in"))
  }

  @Test func theStopFunctionEndsTheCaptureAndIsUninstalled() async throws {
    let lake = FileManager.default.temporaryDirectory.appendingPathComponent("capture-run-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: lake) }
    let (connection, _, deviceTask) = Self.simulatedConnection(seed: 8)
    defer { deviceTask.cancel() }
    let writer = LandingCaptureWriter(lake: lake)
    let stopSwitch = StopSwitch()
    var shown: [String] = []
    let outcome = await CaptureRun(connection: connection, destination: writer, tick: .milliseconds(20)).run(
      installStop: { stop in
        stopSwitch.stop = stop
        return { stopSwitch.uninstalled = true }
      },
      progress: CaptureRun.Progress(
        show: { line in
          shown.append(line)
          // Stop once ten readings are held: the live line reports them as written.
          if writer.recordsWritten + writer.pending >= 10 { stopSwitch.stop?() }
        }, finish: {}))
    #expect(outcome.failure == nil)
    #expect(stopSwitch.uninstalled)
    #expect(!shown.isEmpty && shown.allSatisfy { $0.contains("readings") })
    #expect(writer.recordsWritten >= 10)
    #expect(try Self.landedLines(lake).count == writer.recordsWritten)
  }

  @Test func aFailingDestinationEndsTheCaptureWithItsErrorAndSkipsTheLastCommit() async throws {
    let (connection, _, deviceTask) = Self.simulatedConnection(seed: 9)
    defer { deviceTask.cancel() }
    let destination = FailingDestination(limit: 5)
    // No duration and no stop function: only the failure can end this capture.
    let outcome = await CaptureRun(connection: connection, destination: destination).run()
    #expect(outcome.failure is FailingDestination.Refused)
    #expect(destination.recordsWritten == 5)
    #expect(destination.flushes == 0)
    #expect(outcome.status.counters.readings >= 6)
  }

  /// A folder of links that the test changes while the capture runs.
  final class ChangingLinks: PortDiscovery {
    let links = Mutex<[PortLink]>([])
    func serialPorts() throws -> [SerialPortInfo] { [] }
    func links(in folder: String) throws -> [PortLink] { links.withLock { $0 } }
  }

  @Test func twoMatchingDevicesAtAReconnectEndTheCaptureAndWhatWasHeldIsCommitted() async throws {
    let lake = FileManager.default.temporaryDirectory.appendingPathComponent("capture-run-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: lake) }
    let (hostEnd, deviceEnd) = InMemoryTransport.pair()
    let device = SharedDevice(SimulatorOptions(seed: 10, sampleRateCentihertz: 1600))
    let deviceTask = DeviceSessionTests.runDevice(deviceEnd, device)
    defer { deviceTask.cancel() }
    func link(_ name: String, _ target: String) -> PortLink {
      PortLink(name: name, path: "/by-id/\(name)", target: target)
    }
    let folder = ChangingLinks()
    folder.links.withLock { $0 = [link("usb-STEDI_a", "memory-a"), link("usb-Other", "memory-x")] }
    let connection = DeviceConnection(
      matching: .link(folder: "/by-id", name: "usb-STEDI_*"), discovery: folder, pollInterval: .milliseconds(20),
      backoff: .init(initial: .milliseconds(20)),
      open: { path in
        guard path == "memory-a" else { throw InMemoryTransportError.closed }
        return hostEnd
      })
    // Batches far larger than the capture: whatever lands is the final commit.
    let writer = LandingCaptureWriter(lake: lake, maxRecords: 100_000, maxAgeMs: 3_600_000)
    var unplugged = false
    var notices: [String] = []
    let outcome = await CaptureRun(connection: connection, destination: writer, tick: .milliseconds(20)).run(
      progress: CaptureRun.Progress(
        show: { _ in
          // Ten readings in: the device goes, and two that both match come.
          guard !unplugged, writer.pending >= 10 else { return }
          unplugged = true
          folder.links.withLock { $0 = [link("usb-STEDI_b", "memory-b"), link("usb-STEDI_c", "memory-c")] }
          hostEnd.close()
        }, finish: {}), notice: { notices.append($0) })
    let failure = try #require(outcome.failure as? AmbiguousPort)
    #expect(
      failure.candidates == [
        MatchedPort(path: "memory-b", link: "/by-id/usb-STEDI_b"),
        MatchedPort(path: "memory-c", link: "/by-id/usb-STEDI_c"),
      ])
    #expect(notices == ["found memory-a (/by-id/usb-STEDI_a)"])
    #expect(outcome.status.port == "memory-a")
    #expect(writer.pending == 0 && writer.recordsWritten >= 10, "what was held is committed")
    #expect(try Self.landedLines(lake).count == writer.recordsWritten)
  }
}
