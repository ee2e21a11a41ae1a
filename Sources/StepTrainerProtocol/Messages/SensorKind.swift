/// The kind of distance sensor a device has; values other than the named ones are reserved.
public struct SensorKind: RawRepresentable, Hashable, Sendable {
  /// The byte on the wire.
  public var rawValue: UInt8
  /// A sensor kind from its byte.
  public init(rawValue: UInt8) { self.rawValue = rawValue }
  /// An ultrasonic echo sensor (HC-SR04 style).
  public static let ultrasonic = SensorKind(rawValue: 1)
  /// An infrared time-of-flight sensor.
  public static let infraredTimeOfFlight = SensorKind(rawValue: 2)
}
