import StepTrainerProtocol

/// The Step Trainer's firmware (PROTOCOL.md section 4): call `poll()` from the main loop forever.
///
/// Everything it needs from the hardware comes through `Board`, a generic parameter and never an
/// existential, so the whole firmware specialises to plain calls in Embedded Swift. Its storage
/// is fixed (a 256-reading ring, a decoder's two 256-byte buffers): nothing is allocated after
/// `init`, and encoding and decoding use buffers on the stack.
public struct StepTrainerFirmware<Board: StepTrainerBoard> {
  /// The hardware; public so a board layer (or a test) can reach its own state.
  public var board: Board
  /// The settings in force (stored on the board whenever a CONFIGURE changes them).
  public internal(set) var settings: FirmwareSettings
  /// Waiting for a host, or in a session.
  public internal(set) var state = LinkState.waiting
  /// The session's id from the host's CONNECT, 0 while waiting.
  public internal(set) var sessionId: UInt32 = 0
  /// Random per boot, never 0: a host sees a restart in the next HELLO.
  public let bootId: UInt32
  /// Readings dropped since boot because the ring was full.
  public internal(set) var droppedCount: UInt32 = 0
  /// Frames, readings and sessions since boot.
  public internal(set) var counters = FirmwareCounters()

  var ring = ReadingRing()
  var schedule: SampleSchedule
  var encoder = FrameEncoder()
  var decoder = FrameDecoder()
  /// The next unsolicited HELLO (waiting) or HEARTBEAT (connected).
  var nextTimerMs: UInt64
  var lastHostFrameMs: UInt64 = 0
  var lastVersionNackMs: UInt64?
  var lastOverflowFaultMs: UInt64?
  var lastDropMs: UInt64 = 0
  var droppedReported: UInt32 = 0
  /// Whether the host held the port open at the start of this poll (`Board.hostIsListening()`).
  var hostListening = true
  /// When the part-filled batch in the ring must leave (UInt64.max: none), noted by each
  /// `stream(atMs:)`. Stored, not computed in `nextDueMs`: reading the ring there made the main loop
  /// copy the whole state (2.8 KB of stack) to call it.
  var partialBatchDueMs = UInt64.max
  /// Set when the stored settings were corrupt: the next session starts with a FAULT saying so.
  var settingsFaultPending: Bool
  let bootMs: UInt64

  /// The firmware version a HELLO reports.
  public static var firmwareVersion: (major: UInt8, minor: UInt8, patch: UInt8) { (0, 1, 0) }
  /// How many readings the ring holds while no host takes them (a HELLO's `bufferCapacity`).
  public static var bufferCapacity: Int { ReadingRing.capacity }
  /// A host that sends no valid frame for this long has gone (PROTOCOL.md 4.3).
  public static var linkTimeoutMs: UInt64 { 3000 }
  /// One unsolicited HELLO (waiting) or HEARTBEAT (connected) per this many ms.
  public static var timerPeriodMs: UInt64 { 1000 }
  /// Reading frames sent per `poll()`: one frame is at most 251 bytes (22 ms at 115,200 baud),
  /// so draining a backlog never holds up the next sample or an answer for long.
  static var readingFramesPerPoll: Int { 1 }
  /// A part-filled batch leaves once its first reading is this old (PROTOCOL.md 4.5).
  public static var maxBatchAgeMs: UInt64 { 250 }

  /// Boots: loads the settings (defaults, stored back, when absent or corrupt), picks a boot id
  /// and starts waiting, with the first unsolicited HELLO due at once.
  public init(board: Board) {
    var board = board
    let now = board.milliseconds()
    var settings = FirmwareSettings()
    var corrupt = false
    if let stored = board.loadSettings() {
      if Self.areValid(stored) { settings = stored } else { corrupt = true }
    } else {
      corrupt = board.storedSettingsAreCorrupt()
    }
    // Restoring the defaults on the board makes the fault a one-off, not a report at every boot.
    if corrupt { board.storeSettings(settings) }
    var id = board.random32()
    for _ in 0..<8 where id == 0 { id = board.random32() }
    bootId = id == 0 ? 1 : id
    self.board = board
    self.settings = settings
    settingsFaultPending = corrupt
    bootMs = now
    schedule = SampleSchedule(rateCentihertz: settings.sampleRateCentihertz, startMs: now)
    nextTimerMs = now
  }

  /// Readings waiting in the ring.
  public var bufferedCount: Int { ring.count }
  /// Samples taken since boot (the index the next reading gets).
  public var samplesTaken: UInt32 { ring.nextIndex }
  /// What the receiver has decoded and rejected.
  public var decoderCounters: DecoderCounters { decoder.counters }

  /// One iteration of the main loop: answers what the host sent, then samples, sends heartbeats
  /// or HELLOs and streams readings as they fall due. Never blocks except in the board's calls.
  public mutating func poll() {
    hostListening = board.hostIsListening()
    receive()
    let now = board.milliseconds()
    if state == .connected && now &- lastHostFrameMs >= Self.linkTimeoutMs {
      counters.linkTimeouts &+= 1
      enterWaiting(atMs: now)
    }
    if now >= schedule.nextMs { takeSample(atMs: now) }
    if now >= nextTimerMs { timerFired(atMs: now) }
    if state == .connected && hostListening { stream(atMs: now) }
  }

  /// When `poll()` next has timed work (a sample, a HELLO or HEARTBEAT, the link timeout, frames
  /// to stream or an overflow to report); 0 when it has some now. A board may sleep until then, or
  /// until a byte arrives, instead of polling: whatever `poll()` would do before is nothing.
  // Always inlined: called on the main loop's local firmware, an outlined getter takes a copy of
  // the whole state (2.8 KB of stack) to pass it, which `make check` measured.
  @inline(__always) public var nextDueMs: UInt64 {
    var due = min(schedule.nextMs, nextTimerMs)
    if state == .connected && hostListening {
      // Mirrors stream(atMs:): a frame is due while the ring holds a batch, an overflow FAULT
      // once a second after the previous one.
      if ring.count > 0 && ring.count >= Int(settings.batchSize) { return 0 }
      // Part-filled: due when its first reading is maxBatchAgeMs old.
      due = min(due, partialBatchDueMs)
      if droppedCount != droppedReported {
        guard let last = lastOverflowFaultMs else { return 0 }
        due = min(due, last &+ 1000)
      }
    }
    if state == .connected { due = min(due, lastHostFrameMs &+ Self.linkTimeoutMs) }
    return due
  }

  /// Whether settings can be applied: the ranges of PROTOCOL.md 5.6 (0 "keep" is not a setting).
  static func areValid(_ settings: FirmwareSettings) -> Bool {
    Hello.sampleRateRange.contains(settings.sampleRateCentihertz) && settings.batchSize >= 1
      && Int(settings.batchSize) <= ReadingBatch.capacity
  }

  mutating func enterWaiting(atMs now: UInt64) {
    state = .waiting
    sessionId = 0
    // The first unsolicited HELLO goes out at once, so a host that reopens the port sees us soon.
    nextTimerMs = now
  }

  mutating func takeSample(atMs now: UInt64) {
    let first = board.measureEchoMicroseconds()
    let second = board.measureEchoMicroseconds()
    let third = board.measureEchoMicroseconds()
    let sample = DistanceSample.median(first, second, third)
    if ring.append(sample, timeMs: now) {
      droppedCount &+= 1
      lastDropMs = now
    }
    board.didTakeSample(
      Reading(index: ring.nextIndex &- 1, deviceTimeMs: now, distanceMm: sample.distanceMm, status: sample.status))
    schedule.taken(atMs: now)
  }

  mutating func timerFired(atMs now: UInt64) {
    nextTimerMs += Self.timerPeriodMs
    if nextTimerMs <= now { nextTimerMs = now + Self.timerPeriodMs }
    switch state {
    case .waiting:
      sendHello(sessionId: 0, atMs: now)
    case .connected:
      send(Heartbeat(timeMs: now, state: .connected, buffered: UInt16(clamping: ring.count), dropped: droppedCount))
    }
  }
}
