import StepTrainerProtocol

extension StepTrainerFirmware {
  /// Bytes read from the UART at a time; a few chunks per poll so a flood of noise cannot starve
  /// sampling.
  static var receiveChunkSize: Int { 64 }
  static var receiveChunksPerPoll: Int { 8 }

  /// Reads what the UART holds and answers every frame in it.
  mutating func receive() {
    var chunk = InlineArray<64, UInt8>(repeating: 0)
    var span = chunk.mutableSpan
    span.withUnsafeMutableBufferPointer { buffer in
      for _ in 0..<Self.receiveChunksPerPoll {
        let count = min(board.uartRead(into: buffer), buffer.count)
        guard count > 0 else { return }
        // Receive time of every frame in the chunk: its bytes were all here by now (t2).
        let receivedMs = board.milliseconds()
        decode(UnsafeBufferPointer(rebasing: buffer[0..<count]), receivedMs: receivedMs)
      }
    }
  }

  /// Feeds the decoder one candidate at a time (up to and including its delimiter): at most one
  /// event per call, held in locals, because answering needs `self` while the decoder (part of
  /// `self`) is busy, and a list of events would need the heap. Only what the firmware acts on is
  /// kept (`HostFrame`, a few dozen bytes), never the `DecoderEvent` (~300 B with its `Message`).
  mutating func decode(_ bytes: UnsafeBufferPointer<UInt8>, receivedMs: UInt64) {
    var start = 0
    while start < bytes.count {
      var end = start
      while end < bytes.count && bytes[end] != FrameFormat.delimiter { end += 1 }
      let complete = end < bytes.count
      var frame = HostFrame.none
      decoder.decodeWithHeaders(UnsafeBufferPointer(rebasing: bytes[start..<(complete ? end + 1 : end)])) {
        frame = HostFrame($0, $1)
      }
      switch frame {
      case .none:
        break
      case .rejected(let reason, let header):
        answer(reason, header, receivedMs: receivedMs)
      default:
        handle(frame, receivedMs: receivedMs)
      }
      start = end + 1
    }
  }

  /// Answers a valid frame from the host (PROTOCOL.md 4.6, 4.7).
  mutating func handle(_ frame: HostFrame, receivedMs: UInt64) {
    // Liveness (4.3): a host-to-device message. A device-to-host one is not a host's: a line
    // that echoes the device's own frames back must not keep a session alive.
    if case .deviceToHost = frame { return }
    lastHostFrameMs = receivedMs
    switch frame {
    case .connect(let sessionId):
      counters.sessionsStarted &+= 1
      state = .connected
      self.sessionId = sessionId
      nextTimerMs = receivedMs + Self.timerPeriodMs
      sendHello(sessionId: sessionId, atMs: board.milliseconds())
      if settingsFaultPending {
        settingsFaultPending = false
        send(Fault(code: .settingsCorrupt, severity: .warning, detail: 0, deviceTimeMs: bootMs))
      }
    case .timeSyncRequest(let t1, let sequence):
      guard state == .connected else { return nack(.timeSyncRequest, sequence, .notConnected) }
      // t3 is read as late as possible, just before encoding; never before t2.
      let sendMs = max(board.milliseconds(), receivedMs)
      send(TimeSyncResponse(t1: t1, t2: receivedMs, t3: sendMs))
    case .configure(let configure, let sequence):
      guard state == .connected else { return nack(.configure, sequence, .notConnected) }
      guard configure.isApplicable else { return nack(.configure, sequence, .outOfRange) }
      apply(configure, atMs: board.milliseconds())
      send(Ack(answeredType: MessageType.configure.rawValue, answeredSequence: sequence))
    case .heartbeat, .deviceToHost, .none, .rejected:
      // A host's heartbeat only keeps the link alive.
      break
    }
  }

  /// Applies a CONFIGURE (0 keeps a value) and stores the result; retransmissions of the same
  /// CONFIGURE change nothing, so they do not wear the settings flash.
  mutating func apply(_ configure: Configure, atMs now: UInt64) {
    var updated = settings
    if configure.sampleRateCentihertz != 0 { updated.sampleRateCentihertz = configure.sampleRateCentihertz }
    if configure.batchSize != 0 { updated.batchSize = configure.batchSize }
    guard updated != settings else { return }
    // A batch never spans a settings change (4.5): what is buffered goes out first, at the old
    // spacing, and the ACK follows it.
    if state == .connected && hostListening { flush(atMs: now) }
    schedule.change(rateCentihertz: updated.sampleRateCentihertz, nowMs: now)
    settings = updated
    board.storeSettings(updated)
  }

  /// Answers a rejected frame that came from a host rather than from noise.
  mutating func answer(_ reason: FrameRejection, _ header: FrameHeader, receivedMs: UInt64) {
    switch reason {
    case .unknownType:
      // A newer host's request (4.3): it keeps the link alive, and the NACK says we lack it.
      lastHostFrameMs = receivedMs
      nack(header.type, header.sequence, .unknownType)
    case .version:
      // At most one per second: a newer host learns what we speak without a flood of NACKs.
      if let last = lastVersionNackMs, receivedMs &- last < 1000 { return }
      lastVersionNackMs = receivedMs
      nack(header.type, header.sequence, .unsupportedVersion)
    case .payload:
      // The CRC matched, so this is a host's frame and not noise: say what was wrong with it.
      lastHostFrameMs = receivedMs
      nack(header.type, header.sequence, .badPayload)
    case .oversize, .cobs, .tooShort, .length, .crc:
      // Indistinguishable from line noise: nothing to answer.
      break
    }
  }

  mutating func nack(_ type: MessageType, _ sequence: UInt16, _ reason: NackReason) {
    nack(type.rawValue, sequence, reason)
  }

  mutating func nack(_ type: UInt8, _ sequence: UInt16, _ reason: NackReason) {
    if hostListening { counters.nacksSent &+= 1 }
    send(Nack(answeredType: type, answeredSequence: sequence, reason: reason))
  }
}

/// What the firmware acts on in one decoder event: small, so it can be carried out of the
/// decoder's callback (a `DecoderEvent` may hold a READING_BATCH).
enum HostFrame {
  /// No event, or a rejection without a header (noise): nothing to do.
  case none
  /// CONNECT with its session id.
  case connect(sessionId: UInt32)
  /// TIME_SYNC_REQUEST: the host's t1 and the frame's sequence.
  case timeSyncRequest(t1: UInt64, sequence: UInt16)
  /// CONFIGURE and the frame's sequence.
  case configure(Configure, sequence: UInt16)
  /// A host's HEARTBEAT: it only keeps the link alive.
  case heartbeat
  /// A message only a device sends (HELLO, READING, ACK…): ignored, and not a sign of a host.
  case deviceToHost
  /// A rejected frame that had a header.
  case rejected(FrameRejection, FrameHeader)

  init(_ event: DecoderEvent, _ header: FrameHeader?) {
    switch event {
    case .message(.connect(let connect), _): self = .connect(sessionId: connect.sessionId)
    case .message(.timeSyncRequest(let request), let sequence):
      self = .timeSyncRequest(t1: request.t1, sequence: sequence)
    case .message(.configure(let configure), let sequence): self = .configure(configure, sequence: sequence)
    case .message(.heartbeat, _): self = .heartbeat
    case .message: self = .deviceToHost
    case .rejected(let reason): self = header.map { .rejected(reason, $0) } ?? .none
    }
  }
}
