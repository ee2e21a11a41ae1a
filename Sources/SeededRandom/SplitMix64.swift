import Foundation

/// A small, fast, seedable random generator (Vigna's SplitMix64); the standard library's is not seedable.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64
  private var spare: Double?

  public init(seed: UInt64) { state = seed }

  /// The `index`-th of many independent streams derived from one seed. Seeds that differ by a
  /// constant would give shifted copies of one stream, so both are scrambled first.
  public init(stream index: Int, of seed: UInt64) {
    state = Self.scramble(seed &+ Self.scramble(UInt64(truncatingIfNeeded: index) &+ 0x632B_E59B_D9B4_E019))
  }

  /// MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
  static func scramble(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 33)) &* 0xFF51_AFD7_ED55_8CCD
    z = (z ^ (z >> 33)) &* 0xC4CE_B9FE_1A85_EC53
    return z ^ (z >> 33)
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform double in [0, 1).
  public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

  /// A uniform double in `range`.
  public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
    range.lowerBound + unit() * (range.upperBound - range.lowerBound)
  }

  /// A normally distributed double (Box-Muller; each draw yields two, the second is kept for the next call).
  public mutating func gaussian(mean: Double = 0, deviation: Double = 1) -> Double {
    if let spare {
      self.spare = nil
      return mean + deviation * spare
    }
    let u1 = max(unit(), 0x1.0p-53)
    let u2 = unit()
    let radius = (-2 * log(u1)).squareRoot()
    let angle = 2 * Double.pi * u2
    spare = radius * sin(angle)
    return mean + deviation * radius * cos(angle)
  }

  /// True with probability `p`.
  public mutating func chance(_ p: Double) -> Bool { unit() < p }

  /// A child generator whose stream does not depend on how much of this one is used later.
  public mutating func fork() -> SplitMix64 { SplitMix64(seed: next()) }
}
