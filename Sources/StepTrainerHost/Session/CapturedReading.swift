import Lakehouse
import StepTrainerProtocol

/// One distance sample from a device, with its time mapped to the wall clock and its status kept.
public struct CapturedReading: Sendable, Equatable {
  /// The device's serial number (lowercase UUID text).
  public var serialNumber: String
  /// Wall-clock epoch ms of the sample (the lake's `sensorReadingTime`).
  public var sensorReadingTime: Int64
  /// The device clock at the sample, ms since boot.
  public var deviceTimeMs: UInt64
  /// The device's sample counter.
  public var index: UInt32
  /// The raw distance field, mm; meaningful only when `status` is `ok`.
  public var distanceMm: UInt16
  /// What the sample means.
  public var status: ReadingStatus

  /// Distance in centimetres (the lake's `distanceFromObject`), nil unless the status is `ok`.
  public var distanceFromObject: Double? { status == .ok ? Double(distanceMm) / 10 : nil }

  /// The lake's step_trainer record, nil for samples without a valid distance (never a made-up distance).
  public var landingRecord: StepTrainerReading? {
    guard let distance = distanceFromObject else { return nil }
    return StepTrainerReading(
      sensorReadingTime: sensorReadingTime, serialNumber: serialNumber, distanceFromObject: distance)
  }
}
