import Foundation
import StepTrainerProtocol
import StepTrainerSimulator
import Synchronization
import Testing

@testable import StepTrainerHost

/// The live session over an in-memory link, with the simulated device's state machine on the
/// other end in real time.
/// A simulated device shared between the tasks that drive it.
final class SharedDevice: Sendable {
  let state: Mutex<SimulatedStepTrainer>
  init(_ options: SimulatorOptions) { state = Mutex(SimulatedStepTrainer(options: options)) }
  func withLock<T: Sendable>(_ body: (inout SimulatedStepTrainer) -> T) -> T { state.withLock { body(&$0) } }
}

@Suite struct DeviceSessionTests {
  /// Runs a simulated device on one end of an in-memory link until cancelled.
  static func runDevice(_ link: InMemoryTransport, _ device: SharedDevice) -> Task<Void, Never> {
    let started = ContinuousClock.now
    func elapsed() -> UInt64 {
      let components = (ContinuousClock.now - started).components
      return UInt64(components.seconds) * 1000 + UInt64(components.attoseconds / 1_000_000_000_000_000)
    }
    let receiver = Task {
      do {
        for try await bytes in link.received {
          let reply = device.withLock { $0.receive(bytes, atMs: elapsed()) }
          if !reply.isEmpty { try link.send(reply) }
        }
      } catch {}
    }
    return Task {
      while !Task.isCancelled {
        let output = device.withLock { $0.advance(toMs: elapsed()) }
        if !output.isEmpty { try? link.send(output) }
        try? await Task.sleep(for: .milliseconds(5))
      }
      receiver.cancel()
    }
  }

  @Test func readingsArriveAsAnAsyncSequenceMatchingWhatTheDeviceSampled() async throws {
    let (hostEnd, deviceEnd) = InMemoryTransport.pair()
    let device = SharedDevice(SimulatorOptions(seed: 3, sampleRateCentihertz: 1600))
    let deviceTask = Self.runDevice(deviceEnd, device)
    defer { deviceTask.cancel() }
    let session = DeviceSession(transport: hostEnd, options: HostSessionCore.Options(linkName: "memory"))
    var readings: [CapturedReading] = []
    let before = WallClock.nowMs()
    for try await reading in session.readings() {
      readings.append(reading)
      if readings.count == 40 { break }
    }
    session.close()
    let serial = device.withLock { $0.serialNumber.description }
    let truth = device.withLock { $0.log.samples }
    #expect(readings.map(\.index) == Array(0..<40), "no sample lost, none repeated")
    for reading in readings {
      let sample = truth[Int(reading.index)]
      #expect(reading.serialNumber == serial)
      #expect(reading.distanceMm == sample.distanceMm && reading.status == sample.status)
    }
    // 16 Hz: 62.5 ms apart in device time, and so in wall-clock time.
    let spacing = Double(readings.last!.sensorReadingTime - readings.first!.sensorReadingTime) / 39
    #expect(abs(spacing - 62.5) < 2, "spacing \(spacing) ms")
    #expect(
      readings.allSatisfy { $0.sensorReadingTime >= before - 100 && $0.sensorReadingTime <= WallClock.nowMs() + 100 })
  }

  @Test func aClosedLinkEndsTheSequenceWithAClearError() async throws {
    let (hostEnd, deviceEnd) = InMemoryTransport.pair()
    let device = SharedDevice(SimulatorOptions(seed: 4))
    let deviceTask = Self.runDevice(deviceEnd, device)
    defer { deviceTask.cancel() }
    let session = DeviceSession(transport: hostEnd, options: HostSessionCore.Options(linkName: "memory"))
    var count = 0
    do {
      for try await _ in session.readings() {
        count += 1
        if count == 5 { deviceEnd.close() }
      }
      Issue.record("the sequence must end with an error")
    } catch let error as SessionError {
      guard case .linkClosed(let path, _) = error else {
        Issue.record("expected linkClosed, got \(error)")
        return
      }
      #expect(path == "memory")
    }
    #expect(count >= 5)
  }

  @Test func aDeviceThatNeverAnswersIsReported() async throws {
    let (hostEnd, _) = InMemoryTransport.pair()
    let session = DeviceSession(transport: hostEnd, options: HostSessionCore.Options(linkName: "memory"))
    await #expect(throws: SessionError.noDevice(path: "memory", sawOtherHello: false)) {
      for try await _ in session.readings() {}
    }
  }
}
