import StepTrainerProtocol
import StepTrainerSimulator

/// A simulated device wired to a tiny host made of the protocol's encoder and decoder, driven in simulated time.
struct TestBench {
  var device: SimulatedStepTrainer
  var encoder = FrameEncoder()
  var decoder = FrameDecoder()
  /// Every byte the device sent.
  var wire: [UInt8] = []
  /// Every message the host decoded, with its sequence and the simulator time it arrived.
  var received: [(message: Message, sequence: UInt16, atMs: UInt64)] = []
  /// Every frame the host's decoder rejected.
  var rejected: [FrameRejection] = []
  /// The simulator time reached.
  var now: UInt64 = 0
  /// When set, the host sends a HEARTBEAT every second, keeping the link alive.
  var keepAlive = false
  private var nextHostHeartbeatMs: UInt64 = 0

  init(_ options: SimulatorOptions = SimulatorOptions()) {
    device = SimulatedStepTrainer(options: options)
  }

  /// Lets simulated time pass until `toMs`, `stepMs` at a time.
  mutating func run(until toMs: UInt64, stepMs: UInt64 = 10) {
    while now < toMs {
      now = min(toMs, now + stepMs)
      if keepAlive && now >= nextHostHeartbeatMs {
        nextHostHeartbeatMs = now + 1000
        sendRaw(encoder.encoded(.heartbeat(Heartbeat(timeMs: 1_700_000_000_000 + now, state: .connected))))
      } else {
        take(device.advance(toMs: now))
      }
    }
  }

  /// Sends a message from the host now; returns its sequence.
  @discardableResult
  mutating func send(_ message: Message) -> UInt16 {
    let sequence = encoder.nextSequence
    sendRaw(encoder.encoded(message))
    return sequence
  }

  /// Sends raw bytes from the host now.
  mutating func sendRaw(_ bytes: [UInt8]) {
    take(device.receive(bytes, atMs: now))
  }

  /// Opens a session: the host's 0x00 and a CONNECT.
  @discardableResult
  mutating func connect(sessionId: UInt32 = 0x5EED_0001) -> UInt16 {
    sendRaw([0])
    nextHostHeartbeatMs = now + 1000
    return send(.connect(Connect(sessionId: sessionId)))
  }

  private mutating func take(_ bytes: [UInt8]) {
    wire += bytes
    for event in decoder.decode(bytes) {
      switch event {
      case .message(let message, let sequence): received.append((message, sequence, now))
      case .rejected(let reason): rejected.append(reason)
      }
    }
  }

  /// Messages received after the first `mark`.
  func messages(after mark: Int = 0) -> [Message] { received[mark...].map(\.message) }

  var hellos: [Hello] {
    received.compactMap { if case .hello(let m) = $0.message { m } else { nil } }
  }
  var heartbeats: [Heartbeat] {
    received.compactMap { if case .heartbeat(let m) = $0.message { m } else { nil } }
  }
  var nacks: [Nack] {
    received.compactMap { if case .nack(let m) = $0.message { m } else { nil } }
  }
  var acks: [Ack] {
    received.compactMap { if case .ack(let m) = $0.message { m } else { nil } }
  }
  var faults: [Fault] {
    received.compactMap { if case .fault(let m) = $0.message { m } else { nil } }
  }

  /// Every reading received, READING_BATCHes unpacked, in arrival order.
  var readings: [Reading] { Self.readings(in: messages()) }

  static func readings(in messages: [Message]) -> [Reading] {
    messages.flatMap { message -> [Reading] in
      switch message {
      case .reading(let reading): [reading]
      case .readingBatch(let batch): (0..<batch.count).map { batch[$0] }
      default: []
      }
    }
  }
}

/// A frame with any header, for what the codec cannot encode (other versions, unknown types): the CRC is computed
/// with a zero seed, which is fine because the device must reject these before checking it.
func rawFrame(version: UInt8 = 1, type: UInt8, sequence: UInt16, payload: [UInt8] = []) -> [UInt8] {
  var frame = [version, type, UInt8(sequence & 0xFF), UInt8(sequence >> 8), UInt8(payload.count)] + payload
  frame += [0xDE, 0xAD, 0xBE, 0xEF]
  var encoded = [UInt8](repeating: 0, count: frame.count + 2)
  let count = frame.withUnsafeBufferPointer { source in
    encoded.withUnsafeMutableBufferPointer { COBS.encode(source, into: $0) }
  }
  return Array(encoded[..<count]) + [0]
}
