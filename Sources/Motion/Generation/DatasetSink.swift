/// A customer as the generator invents them, with the landing data's fields.
public struct GeneratedCustomer: Sendable, Equatable {
  public var customerName: String
  public var email: String
  public var phone: String
  public var birthDay: String
  public var serialNumber: String
  public var registrationDate: Int64
  public var lastUpdateDate: Int64
  /// Absent (nil) when never given, as in the real data.
  public var shareWithResearchAsOfDate: Int64?
  public var shareWithPublicAsOfDate: Int64?
  public var shareWithFriendsAsOfDate: Int64?
}

/// Where generated records go; the generator knows nothing of files or formats.
public protocol DatasetSink {
  mutating func customer(_ customer: GeneratedCustomer)
  mutating func accelerometer(user: String, timestamp: Int64, x: Double, y: Double, z: Double)
  mutating func stepTrainer(serialNumber: String, sensorReadingTime: Int64, distanceFromObject: Double)
  mutating func stepEvent(user: String, serialNumber: String, timestamp: Int64, foot: Foot)
  /// A line that is deliberately broken; `last` lines end their file without a newline.
  mutating func malformed(_ table: DatasetTable, line: [UInt8], last: Bool)
}
