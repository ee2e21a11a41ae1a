import SeededRandom
import StepTrainerFirmware
import StepTrainerProtocol

/// The board the simulated Step Trainer's firmware runs on: a clock its runner sets, UART queues,
/// the Motion-model ultrasonic sensor, a noisy line, settings kept in memory and boot ids drawn
/// from the seed.
///
/// It holds no protocol behaviour: everything a host sees comes from `StepTrainerFirmware`, the
/// code that ships on the device. What it adds is what the hardware and the cable would do (a
/// person on the trainer, line noise, a host that closes the port), and the simulator's log of
/// the truth.
public struct SimulatedBoard: StepTrainerBoard {
  /// The device's identity.
  public let serialNumber: DeviceSerialNumber
  /// The simulator clock in ms (virtual in tests, wall time on a pseudo-terminal); never goes back.
  public internal(set) var nowMs: UInt64 = 0
  /// The simulator time of the current boot: the device clock is `nowMs - bootAtMs`.
  public internal(set) var bootAtMs: UInt64 = 0
  /// Whether a host holds the port open (USB-CDC's DTR).
  public internal(set) var isHostPortOpen = true {
    didSet { if isHostPortOpen && !oldValue { needsDelimiter = true } }
  }
  /// The settings storage; it survives reboots, as flash would.
  public internal(set) var storedSettings: FirmwareSettings?
  /// The current boot's id, set by the runner once the firmware has drawn it (for the log).
  var bootId: UInt32 = 0
  /// Every sample taken and frame corrupted, while `keepsLog`.
  var log = SimulatorLog()
  let keepsLog: Bool
  /// Samples the sensor took, across boots.
  var samplesTaken = 0
  /// Garbage bursts put on the line.
  var noiseBursts = 0
  /// Bits flipped in outgoing frames.
  var bitFlips = 0
  /// Outgoing frames damaged by noise.
  var framesCorrupted = 0

  private var inbound: [UInt8] = []
  private var inboundRead = 0
  private var outbound: [UInt8] = []
  /// A host that just opened the port gets a 0x00 before anything else (PROTOCOL.md 3.3).
  private var needsDelimiter = true
  private var sensor: UltrasonicSensor
  private var noise: LineNoise
  private var bootIds: SplitMix64
  /// The echoes of the sample being measured, last first (the firmware asks for three per sample).
  private var pendingEchoes: [UInt32?] = []

  /// A board for `options`, its settings storage holding the options' rate and batch size.
  init(options: SimulatorOptions) {
    serialNumber = options.effectiveSerialNumber
    keepsLog = options.keepsLog
    storedSettings = FirmwareSettings(
      sampleRateCentihertz: options.sampleRateCentihertz, batchSize: UInt8(options.batchSize))
    sensor = UltrasonicSensor(
      options: options, motion: SplitMix64(stream: RandomStream.motion.rawValue, of: options.seed),
      noise: SplitMix64(stream: RandomStream.sensor.rawValue, of: options.seed))
    noise = LineNoise(
      options: options, random: SplitMix64(stream: RandomStream.lineNoise.rawValue, of: options.seed), startMs: 0)
    bootIds = SplitMix64(stream: RandomStream.bootIds.rawValue, of: options.seed)
  }

  // MARK: - StepTrainerBoard

  public mutating func milliseconds() -> UInt64 { nowMs - bootAtMs }

  public mutating func uartWrite(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard isHostPortOpen else { return }
    if bytes.count == 1 && bytes[0] == FrameFormat.delimiter {
      putOnLine([FrameFormat.delimiter])
      return
    }
    // A frame: it may be flipped, or merge with garbage the line carried before it.
    if needsDelimiter { putOnLine([FrameFormat.delimiter]) }
    var wire = Array(bytes)
    let outcome = noise.transmit(&wire)
    if outcome.flipped { bitFlips += 1 }
    if outcome.corrupted {
      framesCorrupted += 1
      if keepsLog, let sequence = Self.sequence(of: Array(bytes)) {
        log.corruptedFrames.append(CorruptedFrame(bootId: bootId, sequence: sequence))
      }
    }
    outbound.append(contentsOf: wire)
  }

  public mutating func uartRead(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
    let count = min(buffer.count, inbound.count - inboundRead)
    for i in 0..<count { buffer[i] = inbound[inboundRead + i] }
    inboundRead += count
    if inboundRead == inbound.count {
      inbound.removeAll(keepingCapacity: true)
      inboundRead = 0
    }
    return count
  }

  public mutating func measureEchoMicroseconds() -> UInt32? {
    if pendingEchoes.isEmpty { pendingEchoes = sensor.echoes(atMs: nowMs).reversed() }
    return pendingEchoes.removeLast()
  }

  public mutating func random32() -> UInt32 { UInt32(truncatingIfNeeded: bootIds.next()) }

  public mutating func loadSettings() -> FirmwareSettings? { storedSettings }

  public mutating func storeSettings(_ settings: FirmwareSettings) { storedSettings = settings }

  public mutating func hostIsListening() -> Bool { isHostPortOpen }

  public mutating func didTakeSample(_ reading: Reading) {
    samplesTaken += 1
    guard keepsLog else { return }
    log.samples.append(
      GeneratedSample(
        bootId: bootId, index: reading.index, deviceTimeMs: reading.deviceTimeMs, distanceMm: reading.distanceMm,
        status: reading.status))
  }

  // MARK: - What the runner does to the board

  /// Host bytes wait here until the firmware reads them.
  mutating func hostSent(_ bytes: [UInt8]) { inbound.append(contentsOf: bytes) }

  /// Whether host bytes wait to be read.
  var hasInbound: Bool { inboundRead < inbound.count }

  /// Moves the clock to `ms` (never back).
  mutating func setTime(_ ms: UInt64) { nowMs = max(nowMs, ms) }

  /// Opens or closes the host's side of the port.
  mutating func setHostPortOpen(_ open: Bool) { isHostPortOpen = open }

  /// When the line's next garbage burst is due, if bursts are on.
  var nextBurstMs: UInt64? { noise.nextBurstMs }

  /// Puts the burst that is due on the line (nothing reaches a closed port).
  mutating func injectBurst() {
    let bytes = noise.burst()
    guard isHostPortOpen else { return }
    noiseBursts += 1
    putOnLine(bytes)
  }

  /// Power cycles: the UART's queues are lost and the device clock restarts at 0 now.
  mutating func powerCycle() {
    inbound.removeAll()
    inboundRead = 0
    outbound.removeAll()
    pendingEchoes.removeAll()
    bootAtMs = nowMs
    needsDelimiter = true
  }

  /// The bytes on the line since the last call.
  mutating func takeOutbound() -> [UInt8] {
    defer { outbound.removeAll(keepingCapacity: true) }
    return outbound
  }

  /// Empties the log (a long-running device hands it on instead of keeping it).
  mutating func takeLog() -> SimulatorLog {
    defer { log = SimulatorLog() }
    return log
  }

  private mutating func putOnLine(_ bytes: [UInt8]) {
    if needsDelimiter && bytes.first != FrameFormat.delimiter { outbound.append(FrameFormat.delimiter) }
    needsDelimiter = false
    outbound.append(contentsOf: bytes)
    noise.noteSent(bytes)
  }

  /// The sequence number of an intact frame's wire bytes (for the log of corrupted frames).
  private static func sequence(of wire: [UInt8]) -> UInt16? {
    var decoder = FrameDecoder()
    for case .message(_, let sequence) in decoder.decode(wire) { return sequence }
    return nil
  }
}
