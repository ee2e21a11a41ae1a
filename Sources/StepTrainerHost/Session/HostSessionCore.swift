import StepTrainerProtocol

/// The host side of PROTOCOL.md section 4 as a pure state machine: bytes and the time go in,
/// bytes to send and events come out. No I/O and no clocks of its own, so the live session, the
/// replay of a raw capture and the tests all run the same logic.
public struct HostSessionCore {
  /// Timing and identity of a session.
  public struct Options: Sendable {
    /// Our CONNECT's session id (random, non-zero).
    public var sessionId: UInt32
    /// Passive: never send, accept any HELLO (replaying a capture).
    public var passive = false
    public var connectRetryMs: Int64 = 500
    /// CONNECT retransmissions after the first attempt.
    public var connectRetries = 5
    public var heartbeatIntervalMs: Int64 = 1000
    public var linkTimeoutMs: Int64 = 3000
    public var initialSyncCount = 5
    public var initialSyncSpacingMs: Int64 = 100
    public var resyncIntervalMs: Int64 = 10_000
    public var configureRetryMs: Int64 = 500
    /// CONFIGURE retransmissions after the first attempt.
    public var configureRetries = 3
    /// The port's name, for error messages.
    public var linkName = "device"

    /// Options with a random session id.
    public init(linkName: String = "device", passive: Bool = false) {
      sessionId = UInt32.random(in: 1...UInt32.max)
      self.linkName = linkName
      self.passive = passive
    }
  }

  /// What one step produced.
  public struct Output: Sendable {
    /// Bytes to send to the device.
    public var send: [UInt8] = []
    /// Events, in order.
    public var events: [SessionEvent] = []
    public init() {}
  }

  enum Phase: Equatable {
    case idle
    case connecting(attempts: Int, lastSentAt: Int64)
    case connected
  }

  public let options: Options
  public private(set) var counters = SessionCounters()
  /// The device, once it said HELLO.
  public private(set) var device: DeviceInfo?
  public private(set) var clock = ClockEstimator()

  private var phase = Phase.idle
  private var decoder = FrameDecoder()
  private var encoder = FrameEncoder()
  private var lastValidFrameAt: Int64 = 0
  private var nextHeartbeatAt: Int64 = 0
  private var nextSyncAt: Int64 = 0
  private var syncsSent = 0
  private var sawOtherHello = false
  private var lastIndex: UInt32?
  private var lastEmittedTime = Int64.min
  /// Readings that arrived before the clock was known (delivered after the first sync).
  private var waitingForClock: [Reading] = []
  private var pendingConfigure: (message: Configure, sequence: UInt16, attempts: Int, sentAt: Int64)?
  private var versionRejectionsWithoutMessage = 0
  private var lastSequence: UInt16?

  /// A session that has not started.
  public init(options: Options) { self.options = options }

  /// Starts the handshake: a delimiter, then CONNECT (nothing in passive mode).
  public mutating func start(now: Int64) -> Output {
    var output = Output()
    lastValidFrameAt = now
    guard !options.passive else {
      phase = .connected
      return output
    }
    output.send.append(FrameFormat.delimiter)
    sendConnect(now: now, attempts: 1, into: &output)
    return output
  }

  /// Feeds bytes from the device.
  public mutating func receive(_ bytes: [UInt8], now: Int64) throws(SessionError) -> Output {
    var output = Output()
    // The decoder lends each frame (`decodeFrames`): readings are read straight from its payload
    // and only other messages are built, so the stream's bulk never becomes a ~300-byte
    // `DecoderEvent`. What the frames ask is collected first and acted on after, since acting
    // needs `self`, whose decoder is busy meanwhile.
    var received: [ReceivedFrame] = []
    var readings: [Reading] = []
    var versionRejections = 0
    var unknownTypes = 0
    let before = decoder.counters
    bytes.withUnsafeBufferPointer { buffer in
      decoder.decodeFrames(buffer) { event in
        switch event {
        case .frame(let frame):
          let start = readings.count
          if let reading = frame.reading {
            readings.append(reading)
          } else if let batch = frame.readingBatchView {
            for i in 0..<batch.count { readings.append(batch[i]) }
          } else {
            received.append(.message(frame.message, sequence: frame.sequence))
            return
          }
          received.append(.readings(start..<readings.count, sequence: frame.sequence))
        case .rejected(.version, _):
          versionRejections += 1
        case .rejected(.unknownType, _):
          unknownTypes += 1
        case .rejected:
          break
        }
      }
    }
    counters.unknownMessages += unknownTypes
    versionRejectionsWithoutMessage += versionRejections
    counters.decoder = decoder.counters
    if decoder.counters.messages > before.messages {
      lastValidFrameAt = now
      versionRejectionsWithoutMessage = 0
    }
    for frame in received {
      switch frame {
      case .readings(let range, let sequence):
        trackSequence(sequence, isHello: false)
        for reading in readings[range] { accept(reading, into: &output) }
      case .message(let message, let sequence):
        if case .hello = message {
          trackSequence(sequence, isHello: true)
        } else {
          trackSequence(sequence, isHello: false)
        }
        handle(message, now: now, into: &output)
      }
    }
    return output
  }

  /// Advances time: retries, heartbeats, time syncs, the link watchdog.
  public mutating func tick(now: Int64) throws(SessionError) -> Output {
    var output = Output()
    guard !options.passive else { return output }
    switch phase {
    case .idle:
      break
    case .connecting(let attempts, let lastSentAt):
      if now - lastSentAt >= options.connectRetryMs {
        guard attempts <= options.connectRetries else {
          // PROTOCOL.md 4.7: frames of another version are judged only once the handshake has
          // failed, and only if nothing valid came since them. Line noise yields `version`
          // outcomes too (the version is checked before the CRC), so acting on them earlier
          // would let noise end a session with a device this host can talk to.
          if versionRejectionsWithoutMessage >= 3 { throw .unsupportedVersion(path: options.linkName) }
          throw .noDevice(path: options.linkName, sawOtherHello: sawOtherHello)
        }
        sendConnect(now: now, attempts: attempts + 1, into: &output)
      }
    case .connected:
      if now - lastValidFrameAt >= options.linkTimeoutMs {
        throw .deadLink(path: options.linkName, silentMs: now - lastValidFrameAt)
      }
      if now >= nextHeartbeatAt {
        send(.heartbeat(Heartbeat(timeMs: UInt64(max(0, now)), state: .connected)), into: &output)
        nextHeartbeatAt = now + options.heartbeatIntervalMs
      }
      if now >= nextSyncAt {
        send(.timeSyncRequest(TimeSyncRequest(t1: UInt64(max(0, now)))), into: &output)
        syncsSent += 1
        nextSyncAt =
          now + (syncsSent < options.initialSyncCount ? options.initialSyncSpacingMs : options.resyncIntervalMs)
      }
      if let pending = pendingConfigure, now - pending.sentAt >= options.configureRetryMs {
        if pending.attempts > options.configureRetries {
          pendingConfigure = nil
          output.events.append(.configurationUnanswered(pending.message))
        } else {
          let sequence = encoder.nextSequence
          send(.configure(pending.message), into: &output)
          pendingConfigure = (pending.message, sequence, pending.attempts + 1, now)
        }
      }
    }
    return output
  }

  /// Asks the device for a new sample rate or batch size; the answer arrives as an event.
  public mutating func configure(_ configuration: Configure, now: Int64) -> Output {
    var output = Output()
    guard !options.passive, phase == .connected else {
      output.events.append(.configurationRefused(configuration, .notConnected))
      return output
    }
    let sequence = encoder.nextSequence
    send(.configure(configuration), into: &output)
    pendingConfigure = (configuration, sequence, 1, now)
    return output
  }

  private mutating func sendConnect(now: Int64, attempts: Int, into output: inout Output) {
    send(.connect(Connect(sessionId: options.sessionId)), into: &output)
    phase = .connecting(attempts: attempts, lastSentAt: now)
  }

  private mutating func send(_ message: Message, into output: inout Output) {
    output.send += encoder.encoded(message)
  }

  private mutating func handle(_ message: Message, now: Int64, into output: inout Output) {
    switch message {
    case .hello(let hello):
      handleHello(hello, now: now, into: &output)
    case .reading(let reading):
      accept(reading, into: &output)
    case .readingBatch(let batch):
      for i in 0..<batch.count { accept(batch[i], into: &output) }
    case .timeSyncResponse(let response):
      guard phase == .connected || options.passive else { return }
      let previous = clock.best
      clock.add(t1: Int64(truncatingIfNeeded: response.t1), t2: response.t2, t3: response.t3, t4: now)
      if let best = clock.best, best != previous {
        output.events.append(.clockSynchronised(offsetMs: best.offset, delayMs: best.delay))
      }
      if previous == nil { flushWaitingForClock(into: &output) }
    case .ack(let ack):
      if let pending = pendingConfigure, ack.answeredType == MessageType.configure.rawValue,
        ack.answeredSequence == pending.sequence
      {
        pendingConfigure = nil
        output.events.append(.configured(pending.message))
      }
    case .nack(let nack):
      if let pending = pendingConfigure, nack.answeredType == MessageType.configure.rawValue,
        nack.answeredSequence == pending.sequence
      {
        pendingConfigure = nil
        output.events.append(.configurationRefused(pending.message, nack.reason))
      }
    case .fault(let fault):
      counters.faults += 1
      output.events.append(.fault(fault))
    case .heartbeat, .connect, .timeSyncRequest, .configure:
      break
    }
  }

  /// Counts gaps and repeats in the device's frame numbering. A HELLO restarts the count: frames
  /// sent before a host listened, or before a reboot, were never meant to arrive.
  private mutating func trackSequence(_ sequence: UInt16, isHello: Bool) {
    defer { lastSequence = sequence }
    if isHello { return }
    guard let last = lastSequence else { return }
    let step = sequence &- last
    if step == 0 {
      counters.repeatedFrames += 1
    } else if step > 1 && step < 0x8000 {
      counters.missingFrames += Int(step) - 1
    } else if step >= 0x8000 {
      // Far behind: an old frame arriving again.
      counters.repeatedFrames += 1
    }
  }

  private mutating func handleHello(_ hello: Hello, now: Int64, into output: inout Output) {
    let info = DeviceInfo(hello: hello)
    let restarted = device.map { $0.hello.bootId != hello.bootId || $0.serialNumber != info.serialNumber } ?? false
    if restarted {
      counters.restarts += 1
      lastIndex = nil
      clock.reset()
      waitingForClock.removeAll()
      lastEmittedTime = Int64.min
      output.events.append(.deviceRestarted(info))
    }
    let ours = hello.sessionId == options.sessionId
    switch phase {
    case .connecting where ours, .connected where options.passive:
      let wasKnown = device != nil && !restarted
      device = info
      phase = .connected
      if !wasKnown || !options.passive { output.events.append(.connected(info)) }
      beginSynchronising(now: now)
    case .connected where ours:
      device = info
    case .connected:
      // An unsolicited HELLO while we think we are connected: the device rebooted or timed the
      // link out. Join again.
      device = info
      sendConnect(now: now, attempts: 1, into: &output)
    case .connecting, .idle:
      sawOtherHello = true
    }
  }

  private mutating func beginSynchronising(now: Int64) {
    syncsSent = 0
    nextSyncAt = now
    nextHeartbeatAt = now
  }

  private mutating func accept(_ reading: Reading, into output: inout Output) {
    guard device != nil else { return }
    if let last = lastIndex {
      if reading.index <= last {
        counters.duplicates += 1
        return
      }
      let gap = Int(reading.index - last) - 1
      if gap > 0 {
        counters.lost += gap
        output.events.append(.readingsLost(count: gap))
      }
    }
    lastIndex = reading.index
    if clock.best == nil {
      // Bounded: a device that never answers time syncs must not grow memory without limit.
      if waitingForClock.count < 65_536 { waitingForClock.append(reading) } else { counters.lost += 1 }
      return
    }
    emit(reading, into: &output)
  }

  private mutating func flushWaitingForClock(into output: inout Output) {
    let waiting = waitingForClock
    waitingForClock.removeAll()
    for reading in waiting { emit(reading, into: &output) }
  }

  private mutating func emit(_ reading: Reading, into output: inout Output) {
    guard let device, let mapped = clock.epochMilliseconds(deviceTime: reading.deviceTimeMs) else { return }
    // A better time-sync sample can move the mapping back by a millisecond or two; samples are
    // in device-time order, so their wall-clock times must not go backwards.
    let time = max(mapped, lastEmittedTime)
    lastEmittedTime = time
    counters.count(reading.status)
    output.events.append(
      .reading(
        CapturedReading(
          serialNumber: device.serialNumber, sensorReadingTime: time, deviceTimeMs: reading.deviceTimeMs,
          index: reading.index, distanceMm: reading.distanceMm, status: reading.status)))
  }
}

/// What one decoded frame asks of the session, collected while the decoder is busy.
private enum ReceivedFrame {
  /// A READING or READING_BATCH: its readings' range in the collected readings.
  case readings(Range<Int>, sequence: UInt16)
  /// Any other message.
  case message(Message, sequence: UInt16)
}
