import Foundation
import SerialPort
import StepTrainerProtocol
import StepTrainerSimulator
import Testing

@Suite("The device on a pseudo-terminal, in real time", .serialized)
struct PseudoTerminalDeviceTests {
  /// Decodes what a port receives, on a task of its own, so a test can wait for messages with a deadline.
  final class Listener: Sendable {
    private let messages = Locked<[(Message, UInt16)]>([])
    private let ending = Locked<(any Error)?>(nil)
    private let task: Task<Void, Never>

    init(_ port: SerialPort) {
      task = Task { [messages, ending] in
        var decoder = FrameDecoder()
        do {
          for try await chunk in port.received {
            let events = decoder.decode(chunk)
            messages.withLock { list in
              for case .message(let message, let sequence) in events { list.append((message, sequence)) }
            }
          }
        } catch {
          ending.withLock { $0 = error }
        }
      }
    }

    /// Waits for the port's stream to end with an error; returns it, or nil if it did not within `timeout`.
    func waitForError(timeout: Duration = .seconds(10)) async -> (any Error)? {
      let deadline = ContinuousClock.now + timeout
      while ContinuousClock.now < deadline {
        if let error = ending.withLock({ $0 }) { return error }
        try? await Task.sleep(for: .milliseconds(5))
      }
      return nil
    }

    deinit { task.cancel() }

    var received: [Message] { messages.withLock { list in list.map { $0.0 } } }

    /// Waits until `done` holds for the messages so far, or `timeout` passes; returns the messages.
    func wait(timeout: Duration = .seconds(10), until done: ([Message]) -> Bool) async -> [Message] {
      let deadline = ContinuousClock.now + timeout
      while ContinuousClock.now < deadline {
        let now = received
        if done(now) { return now }
        try? await Task.sleep(for: .milliseconds(5))
      }
      return received
    }
  }

  static func helloSessions(_ messages: [Message]) -> [UInt32] {
    messages.compactMap { if case .hello(let hello) = $0 { hello.sessionId } else { nil } }
  }

  @Test("a host opens the device's path, gets HELLOs, CONNECTs and receives live readings that match the truth")
  func connectAndStream() async throws {
    let truth = Locked<[GeneratedSample]>([])
    let device = try PseudoTerminalDevice(
      options: SimulatorOptions(seed: 4, sampleRateCentihertz: 1600)
    ) { samples in truth.withLock { $0 += samples } }
    try device.start()
    defer { device.stop() }
    let port = try SerialPort(path: device.path)
    defer { port.close() }
    let listener = Listener(port)

    // Unsolicited HELLO within about a second of opening the port.
    let waiting = await listener.wait { Self.helloSessions($0).contains(0) }
    #expect(Self.helloSessions(waiting).contains(0))

    var encoder = FrameEncoder()
    // The time sync goes with the CONNECT: this host sends no heartbeats, so on a loaded machine
    // the device may time the link out (3 s) before 24 readings have arrived.
    try port.write(
      [0] + encoder.encoded(.connect(Connect(sessionId: 0xABCD_1234)))
        + encoder.encoded(.timeSyncRequest(TimeSyncRequest(t1: 123))))
    let streaming = await listener.wait {
      Self.helloSessions($0).contains(0xABCD_1234) && TestBench.readings(in: $0).count >= 24
        && $0.contains { if case .timeSyncResponse = $0 { true } else { false } }
    }
    #expect(Self.helloSessions(streaming).contains(0xABCD_1234))
    let readings = TestBench.readings(in: streaming)
    #expect(readings.count >= 24)
    // Samples taken before the host came are delivered too: the indexes run from 0 without a gap.
    #expect(readings.map(\.index) == Array(0..<UInt32(readings.count)))
    let bootId = device.bootId
    let known = truth.withLock { $0 }
    for reading in readings where Int(reading.index) < known.count {
      #expect(GeneratedSample(reading: reading, bootId: bootId) == known[Int(reading.index)])
    }

    // Time sync is answered with the device clock, which counts real milliseconds.
    let response = streaming.compactMap { if case .timeSyncResponse(let r) = $0 { r } else { nil } }.first
    #expect(response?.t1 == 123)
    #expect(response.map { $0.t2 <= $0.t3 && $0.t3 < 60_000 } == true)
    #expect(device.counters.hostConnections == 1)
    #expect(device.portOpens >= 1)
  }

  @Test("restart mid-stream: a new boot id in the next HELLO and indexes from 0")
  func restartMidStream() async throws {
    let device = try PseudoTerminalDevice(options: SimulatorOptions(seed: 6))
    try device.start()
    defer { device.stop() }
    let port = try SerialPort(path: device.path)
    defer { port.close() }
    let listener = Listener(port)
    var encoder = FrameEncoder()
    try port.write([0] + encoder.encoded(.connect(Connect(sessionId: 1))))
    _ = await listener.wait { TestBench.readings(in: $0).count >= 3 }
    let firstBoot = device.bootId
    device.restart()
    let after = await listener.wait { messages in
      messages.contains { if case .hello(let h) = $0 { h.bootId != firstBoot } else { false } }
    }
    let hello = after.compactMap { if case .hello(let h) = $0, h.bootId != firstBoot { h } else { nil } }.first
    #expect(hello != nil)
    #expect(hello?.sessionId == 0)
    #expect(device.bootId == hello?.bootId)
    let mark = after.count
    try port.write(encoder.encoded(.connect(Connect(sessionId: 2))))
    let resumed = await listener.wait { TestBench.readings(in: Array($0.dropFirst(mark))).count >= 2 }
    #expect(TestBench.readings(in: Array(resumed.dropFirst(mark))).first?.index == 0)
  }

  @Test("unplug ends the host's reads; replug comes back at the same link path with a new boot")
  func unplugReplug() async throws {
    let link = FileManager.default.temporaryDirectory.appendingPathComponent("stedi-sim-\(getpid())").path
    let device = try PseudoTerminalDevice(options: SimulatorOptions(seed: 8), link: link)
    try device.start()
    defer { device.stop() }
    #expect(device.path == link)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == device.slavePath)
    let port = try SerialPort(path: link)
    let listener = Listener(port)
    _ = await listener.wait { !Self.helloSessions($0).isEmpty }
    let firstBoot = device.bootId
    device.unplug()
    #expect(!device.isPluggedIn)
    let ended = await listener.waitForError()
    #expect((ended as? SerialPortError) == .disconnected(path: link))
    port.close()
    try device.replug()
    #expect(device.isPluggedIn)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == device.slavePath)
    let again = try SerialPort(path: link)
    defer { again.close() }
    let second = Listener(again)
    let hellos = await second.wait { !Self.helloSessions($0).isEmpty }
    let hello = hellos.compactMap { if case .hello(let h) = $0 { h } else { nil } }.first
    #expect(hello != nil)
    #expect(hello?.bootId != firstBoot)
    device.stop()
    #expect(!FileManager.default.fileExists(atPath: link))
  }

  @Test("invalid options are refused before a pseudo-terminal is made")
  func invalidOptions() {
    #expect(throws: SimulatorDeviceError.self) {
      try PseudoTerminalDevice(options: SimulatorOptions(sampleRateCentihertz: 2000))
    }
  }
}
