import StepTrainerProtocol

/// One filtered sensor sample: a distance and what it means (PROTOCOL.md 5.4).
public struct DistanceSample: Equatable {
  /// Millimetres: the distance when `status` is `ok`, the raw value when `outOfRange`, 0 when `noEcho`.
  public var distanceMm: UInt16
  /// Whether the distance is valid, and if not, why.
  public var status: ReadingStatus

  /// A sample with the given fields.
  public init(distanceMm: UInt16, status: ReadingStatus) {
    self.distanceMm = distanceMm
    self.status = status
  }

  /// The sensor's valid range (HC-SR04: 2 cm blind zone, 4 m reach), as the HELLO states it.
  public static let minDistanceMm: UInt16 = 20
  /// The largest distance reported as `ok`.
  public static let maxDistanceMm: UInt16 = 4000

  /// The sample for three raw echo round trips in microseconds (nil: no echo came back).
  ///
  /// The median of three ignores one stray echo (a reflection off a table leg, a missed pulse)
  /// without the lag of an average. A missing echo sorts as "infinitely far", so one of three
  /// missing still gives a distance, and two missing give `noEcho`: never a made-up distance.
  public static func median(_ a: UInt32?, _ b: UInt32?, _ c: UInt32?) -> DistanceSample {
    let x = a ?? .max
    let y = b ?? .max
    let z = c ?? .max
    let middle = max(min(x, y), min(max(x, y), z))
    guard middle != .max else { return DistanceSample(distanceMm: 0, status: .noEcho) }
    return fromEcho(microseconds: middle)
  }

  /// The sample for one echo round trip: sound travels at 343 m/s, there and back.
  public static func fromEcho(microseconds: UInt32) -> DistanceSample {
    // mm = µs × 0.343 / 2, rounded; in 64 bits so no echo time overflows.
    let millimetres = (UInt64(microseconds) * 343 + 1000) / 2000
    let clamped = UInt16(truncatingIfNeeded: min(millimetres, UInt64(UInt16.max)))
    guard millimetres >= UInt64(minDistanceMm), millimetres <= UInt64(maxDistanceMm) else {
      return DistanceSample(distanceMm: clamped, status: .outOfRange)
    }
    return DistanceSample(distanceMm: clamped, status: .ok)
  }
}
