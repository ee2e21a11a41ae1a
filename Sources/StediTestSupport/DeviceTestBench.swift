import Checksums
import StepTrainerProtocol

/// A Step Trainer as the device test bench drives it: time and host bytes in, wire bytes out.
///
/// The firmware's tests run it on a scripted board, the simulator's on the simulated one; both
/// run the same firmware, and the bench is the one host they talk to.
public protocol BenchDevice {
  /// Lets time pass until `toMs` (never back); returns the bytes the device sent meanwhile.
  mutating func advance(toMs: UInt64) -> [UInt8]
  /// Hands the device bytes from the host at `atMs`; returns the bytes it sent up to its answer.
  mutating func receive(_ bytes: [UInt8], atMs: UInt64) -> [UInt8]
}

/// A device wired to a tiny host made of the protocol's encoder and decoder, driven in simulated time.
public struct DeviceTestBench<Device: BenchDevice> {
  /// The device under test.
  public var device: Device
  /// The host's encoder (its sequence numbers).
  public var encoder = FrameEncoder()
  /// The host's decoder.
  public var decoder = FrameDecoder()
  /// Every byte the device sent.
  public private(set) var wire: [UInt8] = []
  /// Every message the host decoded, with its sequence and the time it arrived.
  public private(set) var received: [(message: Message, sequence: UInt16, atMs: UInt64)] = []
  /// Every frame the host's decoder rejected.
  public private(set) var rejected: [FrameRejection] = []
  /// The time reached.
  public private(set) var now: UInt64 = 0
  /// When set, the host sends a HEARTBEAT every second, keeping the link alive.
  public var keepAlive = false
  private var nextHostHeartbeatMs: UInt64 = 0

  /// A bench around `device`, at time 0.
  public init(_ device: Device) { self.device = device }

  /// Lets time pass until `toMs`, the host acting (heartbeats) every `stepMs`.
  public mutating func run(until toMs: UInt64, stepMs: UInt64 = 1) {
    repeat {
      now = min(toMs, max(now, now + stepMs))
      if keepAlive && now >= nextHostHeartbeatMs {
        nextHostHeartbeatMs = now + 1000
        // After a 0x00 (a host MAY send one at any time), so garbage a test sent just before
        // cannot merge with the heartbeat.
        sendRaw([0] + encoder.encoded(.heartbeat(Heartbeat(timeMs: 1_700_000_000_000 + now, state: .connected))))
      }
      take(device.advance(toMs: now))
    } while now < toMs
  }

  /// Lets `ms` pass.
  public mutating func run(forMs ms: UInt64, stepMs: UInt64 = 1) { run(until: now + ms, stepMs: stepMs) }

  /// Gives the device a turn without time passing.
  public mutating func poll() { take(device.advance(toMs: now)) }

  /// Sends a message from the host now; returns its sequence.
  @discardableResult
  public mutating func send(_ message: Message) -> UInt16 {
    let sequence = encoder.nextSequence
    sendRaw(encoder.encoded(message))
    return sequence
  }

  /// Sends raw bytes from the host now.
  public mutating func sendRaw(_ bytes: [UInt8]) { take(device.receive(bytes, atMs: now)) }

  /// Opens a session: the host's 0x00 and a CONNECT; returns the CONNECT's sequence.
  @discardableResult
  public mutating func connect(sessionId: UInt32 = 0x5EED_0001) -> UInt16 {
    nextHostHeartbeatMs = now + 1000
    sendRaw([0])
    return send(.connect(Connect(sessionId: sessionId)))
  }

  /// Forgets what the host received so far (after a reboot, say) and returns those messages.
  @discardableResult
  public mutating func take() -> [Message] {
    defer { received.removeAll() }
    return received.map(\.message)
  }

  /// Starts the bench's clock again at 0, for a device whose clock is the bench's and restarts with
  /// it (a fake board rebooted); a simulated device's clock never goes back.
  public mutating func restartClock() {
    now = 0
    nextHostHeartbeatMs = 0
  }

  /// Starts the host's decoder afresh (a host that reopened the port).
  public mutating func resetDecoder() { decoder.reset() }

  private mutating func take(_ bytes: [UInt8]) {
    wire += bytes
    for event in decoder.decode(bytes) {
      switch event {
      case .message(let message, let sequence): received.append((message, sequence, now))
      case .rejected(let reason): rejected.append(reason)
      }
    }
  }

  // MARK: - Views of what arrived

  /// Every message received, in order.
  public var messages: [Message] { received.map(\.message) }
  /// Messages received after the first `mark`.
  public func messages(after mark: Int) -> [Message] { received[mark...].map(\.message) }
  /// The HELLOs received.
  public var hellos: [Hello] { messages.compactMap { if case .hello(let m) = $0 { m } else { nil } } }
  /// The HEARTBEATs received.
  public var heartbeats: [Heartbeat] { messages.compactMap { if case .heartbeat(let m) = $0 { m } else { nil } } }
  /// The FAULTs received.
  public var faults: [Fault] { messages.compactMap { if case .fault(let m) = $0 { m } else { nil } } }
  /// The ACKs received.
  public var acks: [Ack] { messages.compactMap { if case .ack(let m) = $0 { m } else { nil } } }
  /// The NACKs received.
  public var nacks: [Nack] { messages.compactMap { if case .nack(let m) = $0 { m } else { nil } } }
  /// The TIME_SYNC_RESPONSEs received.
  public var timeSyncResponses: [TimeSyncResponse] {
    messages.compactMap { if case .timeSyncResponse(let m) = $0 { m } else { nil } }
  }
  /// Every reading received, READING_BATCHes unpacked, in arrival order.
  public var readings: [Reading] { Self.readings(in: messages) }

  /// The readings in `messages`, READING_BATCHes unpacked.
  public static func readings(in messages: [Message]) -> [Reading] {
    messages.flatMap { message -> [Reading] in
      switch message {
      case .reading(let reading): [reading]
      case .readingBatch(let batch): (0..<batch.count).map { batch[$0] }
      default: []
      }
    }
  }
}

/// A frame built by hand, for what the codec cannot encode (other versions, unknown types,
/// payloads that break a rule): COBS(version type sequence length payload crc) 0x00, its CRC with
/// the type's seed when the type is known, else 0.
public func rawFrame(version: UInt8 = 1, type: UInt8, sequence: UInt16, payload: [UInt8] = []) -> [UInt8] {
  var frame = [version, type, UInt8(sequence & 0xFF), UInt8(sequence >> 8), UInt8(payload.count)] + payload
  let seed = MessageType(rawValue: type)?.seed ?? 0
  var crc = frame.withUnsafeBufferPointer { CRC32C.update(CRC32C.initial, $0) }
  crc = CRC32C.finalize(CRC32C.update(crc, byte: seed))
  frame += (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
  var wire = [UInt8](repeating: 0, count: frame.count + 2)
  let count = frame.withUnsafeBufferPointer { source in
    wire.withUnsafeMutableBufferPointer { COBS.encode(source, into: $0) }
  }
  return Array(wire[0..<count]) + [0]
}
