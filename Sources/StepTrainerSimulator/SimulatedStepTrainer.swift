import SeededRandom
import StepTrainerProtocol

/// A Step Trainer's firmware as a pure state machine (PROTOCOL.md section 4): bytes and time in, wire bytes out.
///
/// Time is the simulator's clock in milliseconds, which starts at 0 at the first boot and never goes back; the
/// device's own clock (ms since boot, in every frame) is that minus the time of the last boot, so the two are equal
/// until `restart(atMs:)`. Nothing here reads a clock, sleeps or does I/O, so a test drives it deterministically:
/// the same options and the same calls give the same bytes.
public struct SimulatedStepTrainer {
  /// The options the device was built with.
  public let options: SimulatorOptions
  /// The identity the device reports.
  public let serialNumber: DeviceSerialNumber
  /// What the device has done so far.
  public private(set) var counters = SimulatorCounters()
  /// Every sample generated and every frame noise corrupted since the log was last taken (when `keepsLog`).
  public private(set) var log = SimulatorLog()
  /// The current boot's random id (never 0).
  public private(set) var bootId: UInt32 = 0
  /// Waiting for a host, or in a session.
  public private(set) var state = LinkState.waiting
  /// The session's id, 0 while waiting.
  public private(set) var sessionId: UInt32 = 0
  /// The current sample rate in hundredths of a hertz.
  public private(set) var sampleRateCentihertz: UInt16
  /// The current readings per frame.
  public private(set) var batchSize: Int
  /// Samples dropped since boot because the buffer was full.
  public private(set) var droppedSinceBoot: UInt32 = 0
  /// The simulator clock: the latest time the device was advanced to.
  public private(set) var nowMs: UInt64 = 0
  /// Whether a host has the port open (USB-CDC's DTR). While it is closed the device sends nothing and keeps its
  /// readings in the buffer; once it opens, the device's first byte is a 0x00 (PROTOCOL.md 3.3).
  public var isHostPortOpen = true {
    didSet {
      guard isHostPortOpen && !oldValue else { return }
      needsDelimiter = true
      // What waited while the port was closed goes out with the next bytes returned.
      stream()
    }
  }

  private var bootAtMs: UInt64 = 0
  private var encoder = FrameEncoder()
  private var reader = FrameDecoder()
  private var buffer: SampleBuffer
  private var sensor: UltrasonicSensor
  private var noise: LineNoise
  private var bootIds: SplitMix64
  private var nextIndex: UInt32 = 0
  /// Samples are due at `scheduleEpochMs + k × 100,000 / rate` ms; the epoch moves when the rate changes, so
  /// rounding never accumulates.
  private var scheduleEpochMs: UInt64 = 0
  private var scheduleCount: UInt64 = 1
  private var lastSampleMs: UInt64?
  /// The next unsolicited HELLO (waiting) or HEARTBEAT (connected).
  private var nextTimerMs: UInt64 = 0
  private var lastHostFrameMs: UInt64 = 0
  private var lastVersionNackMs: UInt64?
  private var lastFaultMs: UInt64?
  private var lastDropMs: UInt64 = 0
  private var droppedReported: UInt32 = 0
  private var needsDelimiter = true
  private var output: [UInt8] = []

  /// A host that sends no valid frame for this long has gone (PROTOCOL.md 4.3).
  public static let linkTimeoutMs: UInt64 = 3000
  /// Heartbeats while connected, HELLOs while waiting: one per this many ms.
  public static let timerPeriodMs: UInt64 = 1000

  /// A device that has just booted at simulator time 0: waiting, with its first HELLO due at once. The options must
  /// be valid (`options.problem == nil`); invalid ones are a programming error.
  public init(options: SimulatorOptions) {
    if let problem = options.problem { preconditionFailure("invalid simulator options: \(problem)") }
    self.options = options
    serialNumber = options.effectiveSerialNumber
    sampleRateCentihertz = options.sampleRateCentihertz
    batchSize = options.batchSize
    buffer = SampleBuffer(capacity: options.bufferCapacity)
    sensor = UltrasonicSensor(
      options: options, motion: SplitMix64(stream: RandomStream.motion.rawValue, of: options.seed),
      noise: SplitMix64(stream: RandomStream.sensor.rawValue, of: options.seed))
    noise = LineNoise(
      options: options, random: SplitMix64(stream: RandomStream.lineNoise.rawValue, of: options.seed), startMs: 0)
    bootIds = SplitMix64(stream: RandomStream.bootIds.rawValue, of: options.seed)
    boot(atMs: 0)
  }

  /// The device's clock: milliseconds since the current boot.
  public var deviceTimeMs: UInt64 { nowMs - bootAtMs }

  /// Samples waiting in the buffer.
  public var bufferedCount: Int { buffer.count }

  /// What the device's receiver has decoded and rejected.
  public var decoderCounters: DecoderCounters { reader.counters }

  /// Returns the log and starts a new one (a long-running device hands its log on instead of keeping it).
  public mutating func takeLog() -> SimulatorLog {
    defer { log = SimulatorLog() }
    return log
  }

  // MARK: - Inputs

  /// Takes bytes the host sent at `atMs`: advances to that time, then answers each frame; returns the wire bytes to
  /// send (what fell due before `atMs` first).
  public mutating func receive(_ bytes: [UInt8], atMs: UInt64) -> [UInt8] {
    runEvents(until: atMs)
    var items: [(event: DecoderEvent, header: FrameHeader?)] = []
    bytes.withUnsafeBufferPointer { buffer in reader.decodeWithHeaders(buffer) { items.append(($0, $1)) } }
    for item in items {
      switch item.event {
      case .message(let message, let sequence):
        counters.framesReceived += 1
        lastHostFrameMs = nowMs
        handle(message, sequence: sequence)
      case .rejected(let reason):
        counters.framesRejected += 1
        if let header = item.header { answerRejection(reason, header: header) }
      }
    }
    return takeOutput()
  }

  /// Lets time pass until `toMs`: samples, heartbeats or HELLOs, link timeout and line noise that fell due; returns
  /// the wire bytes to send.
  public mutating func advance(toMs: UInt64) -> [UInt8] {
    runEvents(until: toMs)
    return takeOutput()
  }

  /// Reboots the device at `atMs` (watchdog, brown-out, unplug): a new boot id, sequence 0, sample index 0, an
  /// empty buffer, the configured rate and batch size of `options`, and waiting. Whatever fell due between the last
  /// call and `atMs` never happened (the device was going down), and unsent bytes are lost.
  public mutating func restart(atMs: UInt64) {
    nowMs = max(nowMs, atMs)
    output.removeAll()
    counters.restarts += 1
    counters.samplesLostAtRestart += buffer.removeAll()
    boot(atMs: nowMs)
  }

  private mutating func boot(atMs: UInt64) {
    repeat { bootId = UInt32(truncatingIfNeeded: bootIds.next()) } while bootId == 0
    bootAtMs = atMs
    encoder = FrameEncoder()
    reader.reset()
    _ = buffer.removeAll()
    nextIndex = 0
    droppedSinceBoot = 0
    droppedReported = 0
    lastFaultMs = nil
    lastVersionNackMs = nil
    state = .waiting
    sessionId = 0
    sampleRateCentihertz = options.sampleRateCentihertz
    batchSize = options.batchSize
    scheduleEpochMs = atMs
    scheduleCount = 1
    lastSampleMs = nil
    nextTimerMs = atMs
    needsDelimiter = true
  }

  // MARK: - Time

  private var nextSampleMs: UInt64 {
    scheduleEpochMs + scheduleCount * 100_000 / UInt64(sampleRateCentihertz)
  }

  /// Runs every event due up to `toMs`, in time order (at equal times: link timeout, sample, timer, noise).
  private mutating func runEvents(until toMs: UInt64) {
    while true {
      let timeout = state == .connected ? lastHostFrameMs + Self.linkTimeoutMs : UInt64.max
      let burst = noise.nextBurstMs ?? UInt64.max
      let next = min(timeout, nextSampleMs, nextTimerMs, burst)
      guard next <= toMs else { break }
      nowMs = max(nowMs, next)
      if timeout == next {
        counters.linkTimeouts += 1
        enterWaiting()
      } else if nextSampleMs == next {
        takeSample(atMs: next)
      } else if nextTimerMs == next {
        nextTimerMs = next + Self.timerPeriodMs
        timerFired()
      } else {
        let bytes = noise.burst()
        if isHostPortOpen {
          counters.noiseBursts += 1
          putOnLine(bytes)
        }
      }
    }
    nowMs = max(nowMs, toMs)
  }

  private mutating func enterWaiting() {
    state = .waiting
    sessionId = 0
    // The first unsolicited HELLO goes out at once, so a host that reopens the port sees the device soon.
    nextTimerMs = nowMs
  }

  private mutating func timerFired() {
    switch state {
    case .waiting:
      send(.hello(hello(sessionId: 0)))
    case .connected:
      send(
        .heartbeat(
          Heartbeat(
            timeMs: deviceTimeMs, state: .connected, buffered: UInt16(clamping: buffer.count),
            dropped: droppedSinceBoot)))
      stream()
    }
  }

  // MARK: - Samples

  private mutating func takeSample(atMs ms: UInt64) {
    scheduleCount += 1
    lastSampleMs = ms
    let measurement = sensor.measure(atMs: ms)
    let sample = GeneratedSample(
      bootId: bootId, index: nextIndex, deviceTimeMs: ms - bootAtMs, distanceMm: measurement.distanceMm,
      status: measurement.status)
    nextIndex &+= 1
    counters.samplesTaken += 1
    if options.keepsLog { log.samples.append(sample) }
    if buffer.append(sample) != nil {
      counters.samplesDropped += 1
      droppedSinceBoot &+= 1
      lastDropMs = ms
    }
    stream()
  }

  /// Sends what the buffer holds, oldest first, if a host is there to take it: a READING per sample, or batches
  /// when configured to batch or when there is a backlog (PROTOCOL.md 4.5).
  private mutating func stream() {
    guard state == .connected, isHostPortOpen else { return }
    reportOverflow()
    while buffer.count >= batchSize {
      let wanted = buffer.count > batchSize ? min(buffer.count, ReadingBatch.capacity) : batchSize
      if wanted == 1 {
        send(.reading(buffer[0].reading))
        buffer.removeFirst(1)
        counters.samplesSent += 1
        continue
      }
      let first = buffer[0]
      var batch = ReadingBatch(firstIndex: first.index, firstTimeMs: first.deviceTimeMs)
      // A batch holds consecutive samples within 65.5 s of its first; the rest waits for the next batch.
      while batch.count < wanted, batch.append(buffer[batch.count].reading) {}
      send(.readingBatch(batch))
      buffer.removeFirst(batch.count)
      counters.samplesSent += batch.count
    }
  }

  /// Tells the host about readings lost to a full buffer, at most once a second (PROTOCOL.md 4.5, 5.8).
  private mutating func reportOverflow() {
    guard droppedSinceBoot != droppedReported else { return }
    if let lastFaultMs, nowMs - lastFaultMs < 1000 { return }
    send(
      .fault(
        Fault(
          code: .bufferOverflow, severity: .warning, detail: droppedSinceBoot, deviceTimeMs: lastDropMs - bootAtMs)))
    droppedReported = droppedSinceBoot
    lastFaultMs = nowMs
  }

  // MARK: - Requests

  private mutating func handle(_ message: Message, sequence: UInt16) {
    switch message {
    case .connect(let connect):
      state = .connected
      sessionId = connect.sessionId
      counters.hostConnections += 1
      nextTimerMs = nowMs + Self.timerPeriodMs
      send(.hello(hello(sessionId: connect.sessionId)))
      stream()
    case .timeSyncRequest(let request):
      guard state == .connected else { return nack(.timeSyncRequest, sequence, .notConnected) }
      // Answered at once: receive and send times are the same device millisecond.
      send(.timeSyncResponse(TimeSyncResponse(t1: request.t1, t2: deviceTimeMs, t3: deviceTimeMs)))
    case .configure(let configure):
      guard state == .connected else { return nack(.configure, sequence, .notConnected) }
      guard configure.isApplicable else { return nack(.configure, sequence, .outOfRange) }
      if configure.sampleRateCentihertz != 0 { changeRate(to: configure.sampleRateCentihertz) }
      if configure.batchSize != 0 { batchSize = Int(configure.batchSize) }
      send(.ack(Ack(answeredType: MessageType.configure.rawValue, answeredSequence: sequence)))
      // A smaller batch size may make buffered samples due now.
      stream()
    case .heartbeat, .hello, .reading, .readingBatch, .timeSyncResponse, .ack, .nack, .fault:
      // A host's heartbeat only keeps the link alive; device-to-host messages from a host need no answer.
      break
    }
  }

  private mutating func changeRate(to rate: UInt16) {
    guard rate != sampleRateCentihertz else { return }
    sampleRateCentihertz = rate
    // The next sample comes one new period after the last; if that is already past, at once.
    scheduleEpochMs = lastSampleMs ?? bootAtMs
    scheduleCount = 1
    if nextSampleMs < nowMs {
      scheduleEpochMs = nowMs
      scheduleCount = 0
    }
  }

  private mutating func answerRejection(_ reason: FrameRejection, header: FrameHeader) {
    switch reason {
    case .unknownType:
      nack(header.type, header.sequence, .unknownType)
    case .version:
      if let lastVersionNackMs, nowMs - lastVersionNackMs < 1000 { return }
      lastVersionNackMs = nowMs
      nack(header.type, header.sequence, .unsupportedVersion)
    case .payload:
      // The CRC matched, so this is a host's frame and not noise: say what was wrong with it.
      nack(header.type, header.sequence, .badPayload)
    case .oversize, .cobs, .tooShort, .length, .crc:
      // Indistinguishable from line noise: nothing to answer.
      break
    }
  }

  private mutating func nack(_ type: MessageType, _ sequence: UInt16, _ reason: NackReason) {
    nack(type.rawValue, sequence, reason)
  }

  private mutating func nack(_ type: UInt8, _ sequence: UInt16, _ reason: NackReason) {
    counters.nacksSent += 1
    send(.nack(Nack(answeredType: type, answeredSequence: sequence, reason: reason)))
  }

  private func hello(sessionId: UInt32) -> Hello {
    Hello(
      serialNumber: serialNumber, firmwareMajor: options.firmware.major, firmwareMinor: options.firmware.minor,
      firmwarePatch: options.firmware.patch, sensorKind: .ultrasonic, sampleRateCentihertz: sampleRateCentihertz,
      minDistanceMm: SimulatorOptions.distanceRangeMm.lowerBound,
      maxDistanceMm: SimulatorOptions.distanceRangeMm.upperBound, deviceTimeMs: deviceTimeMs, sessionId: sessionId,
      bootId: bootId, bufferCapacity: UInt16(buffer.capacity))
  }

  // MARK: - Output

  /// Encodes and sends a frame; while no host has the port open nothing is sent (and no sequence is used).
  private mutating func send(_ message: Message) {
    guard isHostPortOpen else { return }
    let sequence = encoder.nextSequence
    var wire = encoder.encoded(message)
    counters.framesSent += 1
    if needsDelimiter { putOnLine([FrameFormat.delimiter]) }
    let outcome = noise.transmit(&wire)
    if outcome.flipped { counters.bitFlips += 1 }
    if outcome.corrupted {
      counters.framesCorrupted += 1
      if options.keepsLog { log.corruptedFrames.append(CorruptedFrame(bootId: bootId, sequence: sequence)) }
    }
    output.append(contentsOf: wire)
  }

  private mutating func putOnLine(_ bytes: [UInt8]) {
    if needsDelimiter && bytes.first != FrameFormat.delimiter { output.append(FrameFormat.delimiter) }
    needsDelimiter = false
    output.append(contentsOf: bytes)
    noise.noteSent(bytes)
  }

  private mutating func takeOutput() -> [UInt8] {
    defer { output.removeAll(keepingCapacity: true) }
    return output
  }
}

// FrameEncoder and FrameDecoder are plain values without reference members; they lack a Sendable annotation only
// because the protocol module keeps to what Embedded Swift allows. Every other stored property is Sendable.
extension SimulatedStepTrainer: @unchecked Sendable {}
