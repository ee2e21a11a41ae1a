import StepTrainerFirmware
import StepTrainerProtocol

/// A Step Trainer in simulated time: the device's own firmware (`StepTrainerFirmware`) on a
/// `SimulatedBoard`, bytes and time in, wire bytes out.
///
/// Time is the simulator's clock in milliseconds, which starts at 0 at the first boot and never
/// goes back; the device's own clock (ms since boot, in every frame) is that minus the time of the
/// last boot, so the two are equal until `restart(atMs:)`. The firmware is polled at exactly the
/// times it says it has work (`nextDueMs`) and whenever host bytes arrive, as the real board's
/// main loop wakes on its timer and UART interrupts, so the same options and the same calls give
/// the same bytes however often the simulator is advanced. Nothing here reads a clock or does I/O.
public struct SimulatedStepTrainer {
  /// The options the device was built with.
  public let options: SimulatorOptions
  /// The firmware, running on the simulated board.
  public private(set) var firmware: StepTrainerFirmware<SimulatedBoard> {
    get { storage.firmware }
    _modify {
      // Copy on write: a copy of the device is a device of its own, as a value should be.
      if !isKnownUniquelyReferenced(&storage) { storage = FirmwareStorage(storage.firmware) }
      yield &storage.firmware
    }
  }
  /// The firmware's ~3.7 KB of state lives on the heap. Held inline, an async test that held a
  /// device crashed (a jump to address 0) in debug builds of Swift 6.3.1 as soon as the state
  /// grew past 3,672 bytes; boxed, a device is a few words wherever it is kept.
  private var storage: FirmwareStorage
  private var earlierBoots = SimulatorCounters()

  /// A device that has just booted at simulator time 0: waiting, with its first HELLO due at once.
  /// The options must be valid (`options.problem == nil`); invalid ones are a programming error.
  public init(options: SimulatorOptions) {
    if let problem = options.problem { preconditionFailure("invalid simulator options: \(problem)") }
    self.options = options
    storage = FirmwareStorage(StepTrainerFirmware(board: SimulatedBoard(options: options)))
    firmware.board.bootId = firmware.bootId
  }

  /// The identity the device reports.
  public var serialNumber: DeviceSerialNumber { firmware.board.serialNumber }
  /// The current boot's random id (never 0).
  public var bootId: UInt32 { firmware.bootId }
  /// Waiting for a host, or in a session.
  public var state: LinkState { firmware.state }
  /// The session's id, 0 while waiting.
  public var sessionId: UInt32 { firmware.sessionId }
  /// The current sample rate in hundredths of a hertz.
  public var sampleRateCentihertz: UInt16 { firmware.settings.sampleRateCentihertz }
  /// The current readings per frame.
  public var batchSize: Int { Int(firmware.settings.batchSize) }
  /// Samples dropped since boot because the buffer was full.
  public var droppedSinceBoot: UInt32 { firmware.droppedCount }
  /// The simulator clock: the latest time the device was advanced to.
  public var nowMs: UInt64 { firmware.board.nowMs }
  /// The device's clock: milliseconds since the current boot.
  public var deviceTimeMs: UInt64 { firmware.board.nowMs - firmware.board.bootAtMs }
  /// Samples waiting in the buffer.
  public var bufferedCount: Int { firmware.bufferedCount }
  /// What the current boot's receiver has decoded and rejected.
  public var decoderCounters: DecoderCounters { firmware.decoderCounters }
  /// Every sample generated and every frame noise corrupted since the log was last taken (when `keepsLog`).
  public var log: SimulatorLog { firmware.board.log }

  /// What the device has done since it was created, across restarts.
  public var counters: SimulatorCounters {
    var total = earlierBoots
    let board = firmware.board
    let current = firmware.counters
    total.samplesTaken = board.samplesTaken
    total.noiseBursts = board.noiseBursts
    total.bitFlips = board.bitFlips
    total.framesCorrupted = board.framesCorrupted
    total.samplesSent += Int(current.readingsSent)
    total.samplesDropped += Int(firmware.droppedCount)
    total.framesSent += Int(current.framesSent)
    total.framesReceived += firmware.decoderCounters.messages
    total.framesRejected += firmware.decoderCounters.framesRejected
    total.nacksSent += Int(current.nacksSent)
    total.hostConnections += Int(current.sessionsStarted)
    total.linkTimeouts += Int(current.linkTimeouts)
    return total
  }

  /// Whether a host has the port open (USB-CDC's DTR). While it is closed the device sends nothing
  /// and keeps its readings in the buffer; once it opens, the device's first byte is a 0x00
  /// (PROTOCOL.md 3.3) and what waited goes out with the next bytes returned.
  public var isHostPortOpen: Bool {
    get { firmware.board.isHostPortOpen }
    set {
      guard newValue != firmware.board.isHostPortOpen else { return }
      firmware.board.setHostPortOpen(newValue)
      // One poll so the firmware sees the port's new state, then whatever that made due.
      firmware.poll()
      runEvents(until: nowMs)
    }
  }

  /// Returns the log and starts a new one (a long-running device hands its log on instead of keeping it).
  public mutating func takeLog() -> SimulatorLog { firmware.board.takeLog() }

  /// Takes bytes the host sent at `atMs`: advances to that time, then the firmware reads and
  /// answers them; returns the wire bytes to send (what fell due before `atMs` first).
  public mutating func receive(_ bytes: [UInt8], atMs: UInt64) -> [UInt8] {
    runEvents(until: atMs)
    firmware.board.hostSent(bytes)
    while firmware.board.hasInbound { firmware.poll() }
    runEvents(until: atMs)
    return firmware.board.takeOutbound()
  }

  /// Lets time pass until `toMs`: whatever the firmware and the line have due; returns the wire bytes to send.
  public mutating func advance(toMs: UInt64) -> [UInt8] {
    runEvents(until: toMs)
    return firmware.board.takeOutbound()
  }

  /// Reboots the device at `atMs` (watchdog, brown-out, unplug): the firmware boots afresh on the
  /// same board, with a new boot id, sequence 0, sample index 0, an empty buffer and waiting; the
  /// stored settings survive, as they do in flash. Whatever fell due between the last call and
  /// `atMs` never happened (the device was going down), and unsent bytes are lost.
  public mutating func restart(atMs: UInt64) {
    earlierBoots = counters
    earlierBoots.restarts += 1
    earlierBoots.samplesLostAtRestart += firmware.bufferedCount
    var board = firmware.board
    board.setTime(atMs)
    board.powerCycle()
    firmware = StepTrainerFirmware(board: board)
    firmware.board.bootId = firmware.bootId
  }

  /// Polls the firmware at each time it has work until `toMs`, and puts the line's garbage bursts
  /// on it as they fall due (at equal times, the firmware first).
  private mutating func runEvents(until toMs: UInt64) {
    var pollsWithoutTimePassing = 0
    while true {
      let now = firmware.board.nowMs
      let due = max(now, firmware.board.bootAtMs + firmware.nextDueMs)
      let burst = firmware.board.nextBurstMs ?? .max
      let next = min(due, burst)
      guard next <= toMs else { break }
      pollsWithoutTimePassing = next == now ? pollsWithoutTimePassing + 1 : 0
      // The firmware drains a backlog a frame per poll, but work due now must not stay due for ever.
      precondition(pollsWithoutTimePassing < 100_000, "the firmware stays due at \(now) ms")
      firmware.board.setTime(next)
      if due <= burst { firmware.poll() } else { firmware.board.injectBurst() }
    }
    firmware.board.setTime(toMs)
  }
}

/// The heap box of a simulated device's firmware.
private final class FirmwareStorage {
  var firmware: StepTrainerFirmware<SimulatedBoard>
  init(_ firmware: StepTrainerFirmware<SimulatedBoard>) { self.firmware = firmware }
}

// The firmware's encoder and decoder are plain values without reference members; they lack a
// Sendable annotation only because the protocol module keeps to what Embedded Swift allows.
extension SimulatedStepTrainer: @unchecked Sendable {}
