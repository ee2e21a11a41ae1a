import Foundation
import SeededRandom

/// The noise of the serial line between device and host: random bursts of bytes between frames, and single bit
/// flips inside frames, drawn from the seed.
struct LineNoise {
  private var random: SplitMix64
  private let meanBurstIntervalMs: Double?
  private let bitFlipChance: Double
  /// When the next garbage burst is due (simulator ms); nil when bursts are off.
  private(set) var nextBurstMs: UInt64?
  /// Whether the line carries bytes after its last 0x00: the next frame then merges with them and is lost.
  private(set) var isDirty = false

  /// The longest burst, bytes.
  static let maxBurstLength = 48

  /// Noise as `options` configure it, scheduled from simulator time `startMs`.
  init(options: SimulatorOptions, random: SplitMix64, startMs: UInt64) {
    self.random = random
    meanBurstIntervalMs = options.garbageBurstsPerMinute > 0 ? 60_000 / options.garbageBurstsPerMinute : nil
    bitFlipChance = options.bitFlipChance
    scheduleBurst(after: startMs)
  }

  private mutating func scheduleBurst(after ms: UInt64) {
    guard let meanBurstIntervalMs else { return }
    // Exponential gaps: bursts as a Poisson process at the configured rate.
    let gap = -log(1 - random.unit()) * meanBurstIntervalMs
    nextBurstMs = ms + max(1, UInt64(min(gap, 1e12)))
  }

  /// The bytes of the burst due now, and schedules the next. Half the bursts hold 0x00 bytes (they are judged as
  /// candidates of their own); the others merge with whatever follows.
  mutating func burst() -> [UInt8] {
    let now = nextBurstMs ?? 0
    scheduleBurst(after: now)
    let length = 1 + Int(random.next() % UInt64(Self.maxBurstLength))
    let withZeros = random.chance(0.5)
    let bytes = (0..<length).map { _ in
      withZeros ? UInt8(truncatingIfNeeded: random.next()) : UInt8(1 + random.next() % 255)
    }
    return bytes
  }

  /// Puts a frame's wire bytes on the line, perhaps flipping one bit; returns whether the host will lose the frame
  /// (flipped, or merged with garbage before it) and whether a bit was flipped.
  mutating func transmit(_ wire: inout [UInt8]) -> (corrupted: Bool, flipped: Bool) {
    var corrupted = isDirty
    var flipped = false
    if bitFlipChance > 0, random.chance(bitFlipChance) {
      // Any bit, the delimiter's included: a lost delimiter merges this frame with the next, costing both.
      let bit = Int(random.next() % UInt64(wire.count * 8))
      wire[bit / 8] ^= 1 << UInt8(bit % 8)
      corrupted = true
      flipped = true
    }
    noteSent(wire)
    return (corrupted, flipped)
  }

  /// Records bytes put on the line (frames, bursts, delimiters): the line is clean after a trailing 0x00.
  mutating func noteSent(_ bytes: [UInt8]) {
    if let last = bytes.last { isDirty = last != 0 }
  }
}
