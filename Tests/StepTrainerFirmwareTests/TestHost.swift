import StepTrainerFirmware
import StepTrainerProtocol

/// The firmware on a fake board, wired to a tiny host made of the protocol's encoder and
/// decoder, driven in simulated time.
struct TestHost {
  var firmware: StepTrainerFirmware<FakeBoard>
  var encoder = FrameEncoder()
  var decoder = FrameDecoder()
  /// Every message the host decoded, with its sequence and the board time it arrived.
  var received: [(message: Message, sequence: UInt16, atMs: UInt64)] = []
  /// Every frame the host's decoder rejected.
  var rejected: [FrameRejection] = []
  /// Every byte the device sent.
  var wire: [UInt8] = []
  /// When set, the host sends a HEARTBEAT every second, keeping the link alive.
  var keepAlive = false
  private var nextHostHeartbeatMs: UInt64 = 0

  init(board: FakeBoard = FakeBoard()) {
    firmware = StepTrainerFirmware(board: board)
  }

  var now: UInt64 { firmware.board.nowMs }

  /// Polls every `stepMs` until the board clock reaches `toMs`.
  ///
  /// `sleeping`: instead of fixed steps, the clock jumps to the firmware's `nextDueMs` or the
  /// host's next frame, whichever comes first, as a board that sleeps between interrupts does.
  mutating func run(until toMs: UInt64, stepMs: UInt64 = 1, sleeping: Bool = false) {
    var pollsWithoutTimePassing = 0
    repeat {
      if keepAlive && now >= nextHostHeartbeatMs {
        nextHostHeartbeatMs = now + 1000
        // After a 0x00 (a host MAY send one at any time), so garbage a test sent just before
        // cannot merge with the heartbeat.
        sendRaw([0])
        send(.heartbeat(Heartbeat(timeMs: 1_700_000_000_000 + now, state: .connected)))
      }
      poll()
      if sleeping {
        let wake = min(firmware.nextDueMs, keepAlive ? nextHostHeartbeatMs : .max)
        // Work due now is fine (a backlog drains a frame per poll), but never for ever.
        pollsWithoutTimePassing = wake <= now ? pollsWithoutTimePassing + 1 : 0
        precondition(pollsWithoutTimePassing < 1000, "nextDueMs stays in the past at \(now) ms")
        firmware.board.nowMs = min(toMs, max(now, wake))
      } else {
        firmware.board.nowMs = min(toMs, max(now, now + stepMs))
      }
    } while now < toMs
    poll()
  }

  /// Lets `ms` pass.
  mutating func run(forMs ms: UInt64, stepMs: UInt64 = 1, sleeping: Bool = false) {
    run(until: now + ms, stepMs: stepMs, sleeping: sleeping)
  }

  /// One main-loop iteration, then the host reads what the device wrote.
  mutating func poll() {
    firmware.poll()
    let bytes = firmware.board.outbound
    firmware.board.outbound.removeAll()
    wire += bytes
    for event in decoder.decode(bytes) {
      switch event {
      case .message(let message, let sequence): received.append((message, sequence, now))
      case .rejected(let reason): rejected.append(reason)
      }
    }
  }

  /// Queues a message from the host (the device reads it at its next poll); returns its sequence.
  @discardableResult
  mutating func send(_ message: Message) -> UInt16 {
    let sequence = encoder.nextSequence
    sendRaw(encoder.encoded(message))
    return sequence
  }

  /// Queues raw bytes from the host.
  mutating func sendRaw(_ bytes: [UInt8]) { firmware.board.inbound += bytes }

  /// Opens a session (the host's 0x00 and a CONNECT) and polls once so the device answers.
  mutating func connect(sessionId: UInt32 = 0x5EED_0001) {
    sendRaw([0])
    send(.connect(Connect(sessionId: sessionId)))
    nextHostHeartbeatMs = now + 1000
    poll()
  }

  /// A new firmware instance on the same board: settings storage survives, the clock restarts,
  /// the UART loses what it held.
  mutating func reboot() {
    var board = firmware.board
    board.nowMs = 0
    board.inbound.removeAll()
    board.outbound.removeAll()
    firmware = StepTrainerFirmware(board: board)
    decoder.reset()
    received.removeAll()
  }

  /// Returns the messages received so far and forgets them.
  mutating func take() -> [Message] {
    defer { received.removeAll() }
    return received.map(\.message)
  }

  // MARK: - Views of what arrived

  var messages: [Message] { received.map(\.message) }

  var hellos: [Hello] { messages.compactMap { if case .hello(let m) = $0 { m } else { nil } } }
  var heartbeats: [Heartbeat] { messages.compactMap { if case .heartbeat(let m) = $0 { m } else { nil } } }
  var faults: [Fault] { messages.compactMap { if case .fault(let m) = $0 { m } else { nil } } }
  var acks: [Ack] { messages.compactMap { if case .ack(let m) = $0 { m } else { nil } } }
  var nacks: [Nack] { messages.compactMap { if case .nack(let m) = $0 { m } else { nil } } }
  var timeSyncResponses: [TimeSyncResponse] {
    messages.compactMap { if case .timeSyncResponse(let m) = $0 { m } else { nil } }
  }

  /// Every reading received, batches expanded, in order.
  var readings: [Reading] {
    messages.flatMap { message -> [Reading] in
      switch message {
      case .reading(let reading): [reading]
      case .readingBatch(let batch): (0..<batch.count).map { batch[$0] }
      default: []
      }
    }
  }
}
