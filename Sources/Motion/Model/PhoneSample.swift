/// One accelerometer sample from a phone, in the lake's units: epoch milliseconds and m/s² per axis.
public struct PhoneSample: Sendable, Equatable {
  /// Epoch milliseconds (UTC).
  public var timestamp: Int64
  public var x: Double
  public var y: Double
  public var z: Double

  public init(timestamp: Int64, x: Double, y: Double, z: Double) {
    self.timestamp = timestamp
    self.x = x
    self.y = y
    self.z = z
  }
}
