import SeededRandom
import StepTrainerProtocol

/// How a simulated Step Trainer is built and how noisy its line is.
public struct SimulatorOptions: Sendable {
  /// The device's identity; nil derives a random-looking UUID from `seed`.
  public var serialNumber: DeviceSerialNumber?
  /// The sample rate after boot, in hundredths of a hertz (100 to 1,600).
  public var sampleRateCentihertz: UInt16
  /// Readings per frame after boot (1 sends READINGs, up to 45).
  public var batchSize: Int
  /// Seeds everything random: serial number, boot ids, the person exercising, sensor noise, line noise.
  public var seed: UInt64
  /// Standard deviation of the sensor's measurement jitter, in millimetres.
  public var jitterMm: Double
  /// Chance per sample that no echo returns (status `noEcho`).
  public var noEchoChance: Double
  /// Chance per sample of a stray echo outside the sensor's range (status `outOfRange`).
  public var outOfRangeChance: Double
  /// Bursts of random bytes injected between outgoing frames, on average per minute of device time.
  public var garbageBurstsPerMinute: Double
  /// Chance per outgoing frame that one of its bits is flipped on the line.
  public var bitFlipChance: Double
  /// Whether the simulator keeps a log of generated samples and corrupted frames (see `SimulatedStepTrainer.log`).
  public var keepsLog: Bool

  /// Options with the defaults of a quiet 10 Hz device. The buffer's size and the firmware version
  /// are the firmware's own (`StepTrainerFirmware.bufferCapacity`, `.firmwareVersion`).
  public init(
    seed: UInt64 = 1, serialNumber: DeviceSerialNumber? = nil, sampleRateCentihertz: UInt16 = 1000, batchSize: Int = 1,
    jitterMm: Double = 3, noEchoChance: Double = 0.01, outOfRangeChance: Double = 0.003,
    garbageBurstsPerMinute: Double = 0, bitFlipChance: Double = 0, keepsLog: Bool = true
  ) {
    self.serialNumber = serialNumber
    self.sampleRateCentihertz = sampleRateCentihertz
    self.batchSize = batchSize
    self.seed = seed
    self.jitterMm = jitterMm
    self.noEchoChance = noEchoChance
    self.outOfRangeChance = outOfRangeChance
    self.garbageBurstsPerMinute = garbageBurstsPerMinute
    self.bitFlipChance = bitFlipChance
    self.keepsLog = keepsLog
  }

  /// The serial number the device reports: the given one, or one derived from `seed`.
  public var effectiveSerialNumber: DeviceSerialNumber {
    if let serialNumber { return serialNumber }
    var random = SplitMix64(stream: RandomStream.serialNumber.rawValue, of: seed)
    // Shaped as a version-4, RFC 4122-variant UUID, like one a factory would assign.
    let high = (random.next() & ~0xF000) | 0x4000
    let low = (random.next() & ~(0xC000_0000_0000_0000 as UInt64)) | 0x8000_0000_0000_0000
    return DeviceSerialNumber(high: high, low: low)
  }

  /// Why these options cannot build a device, or nil when they can.
  public var problem: String? {
    if !Hello.sampleRateRange.contains(sampleRateCentihertz) {
      return "sample rate must be 1 to 16 Hz (100 to 1600 centihertz), not \(sampleRateCentihertz) centihertz"
    }
    if !(1...ReadingBatch.capacity).contains(batchSize) {
      return "batch size must be 1 to \(ReadingBatch.capacity), not \(batchSize)"
    }
    if !(0...1).contains(noEchoChance) || !(0...1).contains(outOfRangeChance) || !(0...1).contains(bitFlipChance) {
      return "chances must be between 0 and 1"
    }
    if !(garbageBurstsPerMinute >= 0 && garbageBurstsPerMinute.isFinite) {
      return "garbage bursts per minute must be 0 or more"
    }
    if !(jitterMm >= 0 && jitterMm.isFinite) { return "jitter must be 0 or more millimetres" }
    return nil
  }
}

/// The independent random streams drawn from one seed, so that e.g. turning line noise on does not change the
/// samples.
enum RandomStream: Int {
  case serialNumber = 0
  case bootIds = 1
  case motion = 2
  case sensor = 3
  case lineNoise = 4
}
