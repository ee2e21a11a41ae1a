/// One phone accelerometer reading: one line of `accelerometer/landing`.
public struct AccelerometerReading: Sendable, Hashable {
  /// The customer's email, as the phone app sends it.
  public var user: String
  public var timestamp: Int64
  public var x: Double
  public var y: Double
  public var z: Double

  public init(user: String, timestamp: Int64, x: Double, y: Double, z: Double) {
    self.user = user
    self.timestamp = timestamp
    self.x = x
    self.y = y
    self.z = z
  }

  /// Validates one landing line and hands its fields to `accept` without building a String.
  @inline(__always)
  package static func decode(
    _ line: UnsafeBufferPointer<UInt8>, times: RecordTimeWindow = .unbounded, scratch: inout [UInt8],
    _ accept: (_ user: UnsafeRawBufferPointer, _ timestamp: Int64, _ x: Double, _ y: Double, _ z: Double) -> Void
  ) throws(RecordError) {
    var scanner = try JSONObjectScanner(line: line)
    var seen = SeenFields()
    var user = JSONStringToken(start: 0, end: 0, escaped: false)
    var timestamp: Int64 = 0
    var x = 0.0
    var y = 0.0
    var z = 0.0
    while let (key, value) = try scanner.nextMember() {
      if line.stringEquals(key, "user") {
        try seen.mark(0, "user")
        user = try line.stringField(value, "user")
      } else if line.stringEquals(key, "timestamp") {
        try seen.mark(1, "timestamp")
        timestamp = try line.integerField(value, "timestamp")
      } else if line.stringEquals(key, "x") {
        try seen.mark(2, "x")
        x = try line.numberField(value, "x")
      } else if line.stringEquals(key, "y") {
        try seen.mark(3, "y")
        y = try line.numberField(value, "y")
      } else if line.stringEquals(key, "z") {
        try seen.mark(4, "z")
        z = try line.numberField(value, "z")
      }
    }
    try seen.require(0, "user")
    try seen.require(1, "timestamp")
    try seen.require(2, "x")
    try seen.require(3, "y")
    try seen.require(4, "z")
    try times.check(timestamp, "timestamp")
    // The user is the customer's email: one that is blank or has no domain can match no one.
    let problem = line.stringBytes(user, scratch: &scratch) { bytes -> RecordError? in
      if let problem = EmailShape.problem(bytes, field: "user") { return problem }
      accept(bytes, timestamp, x, y, z)
      return nil
    }
    if let problem { throw problem }
  }

  /// Decodes and validates one landing line, whatever its time (for erasure and audit).
  public static func decode(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) -> AccelerometerReading {
    try decode(line, times: .unbounded)
  }

  /// Decodes and validates one landing line; its timestamp must lie in `times`.
  public static func decode(
    _ line: UnsafeBufferPointer<UInt8>, times: RecordTimeWindow
  ) throws(RecordError) -> AccelerometerReading {
    var scratch: [UInt8] = []
    var reading = AccelerometerReading(user: "", timestamp: 0, x: 0, y: 0, z: 0)
    try decode(line, times: times, scratch: &scratch) { user, timestamp, x, y, z in
      reading = AccelerometerReading(
        user: String(decoding: user, as: UTF8.self), timestamp: timestamp, x: x, y: y, z: z)
    }
    return reading
  }

  /// Renders the reading as one NDJSON line.
  public func render(into buffer: inout NDJSONBuffer) {
    Self.render(user: user, timestamp: timestamp, x: x, y: y, z: z, into: &buffer)
  }

  /// Renders a reading's fields as one NDJSON line without building the value first.
  public static func render(
    user: String, timestamp: Int64, x: Double, y: Double, z: Double, into buffer: inout NDJSONBuffer
  ) {
    buffer.beginObject()
    buffer.field("user", user)
    buffer.field("timestamp", timestamp)
    buffer.field("x", x)
    buffer.field("y", y)
    buffer.field("z", z)
    buffer.endObject()
  }
}
