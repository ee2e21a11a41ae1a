/// One Step Trainer distance reading: one line of `step_trainer/landing`.
public struct StepTrainerReading: Sendable, Hashable {
  public var sensorReadingTime: Int64
  public var serialNumber: String
  /// Distance to the foot in centimetres.
  public var distanceFromObject: Double

  public init(sensorReadingTime: Int64, serialNumber: String, distanceFromObject: Double) {
    self.sensorReadingTime = sensorReadingTime
    self.serialNumber = serialNumber
    self.distanceFromObject = distanceFromObject
  }

  /// Validates one landing line and hands its fields to `accept` without building a String.
  @inline(__always)
  package static func decode(
    _ line: UnsafeBufferPointer<UInt8>, times: RecordTimeWindow = .unbounded, scratch: inout [UInt8],
    _ accept: (_ serialNumber: UnsafeRawBufferPointer, _ sensorReadingTime: Int64, _ distance: Double) -> Void
  ) throws(RecordError) {
    var scanner = try JSONObjectScanner(line: line)
    var seen = SeenFields()
    var serial = JSONStringToken(start: 0, end: 0, escaped: false)
    var time: Int64 = 0
    var distance = 0.0
    while let (key, value) = try scanner.nextMember() {
      if line.stringEquals(key, "sensorReadingTime") {
        try seen.mark(0, "sensorReadingTime")
        time = try line.integerField(value, "sensorReadingTime")
      } else if line.stringEquals(key, "serialNumber") {
        try seen.mark(1, "serialNumber")
        serial = try line.stringField(value, "serialNumber")
      } else if line.stringEquals(key, "distanceFromObject") {
        try seen.mark(2, "distanceFromObject")
        distance = try line.numberField(value, "distanceFromObject")
      }
    }
    try seen.require(0, "sensorReadingTime")
    try seen.require(1, "serialNumber")
    try seen.require(2, "distanceFromObject")
    try times.check(time, "sensorReadingTime")
    line.stringBytes(serial, scratch: &scratch) { accept($0, time, distance) }
  }

  /// Decodes and validates one landing line, whatever its time (for erasure and audit).
  public static func decode(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) -> StepTrainerReading {
    try decode(line, times: .unbounded)
  }

  /// Decodes and validates one landing line; its reading time must lie in `times`.
  public static func decode(
    _ line: UnsafeBufferPointer<UInt8>, times: RecordTimeWindow
  ) throws(RecordError) -> StepTrainerReading {
    var scratch: [UInt8] = []
    var reading = StepTrainerReading(sensorReadingTime: 0, serialNumber: "", distanceFromObject: 0)
    try decode(line, times: times, scratch: &scratch) { serial, time, distance in
      reading = StepTrainerReading(
        sensorReadingTime: time, serialNumber: String(decoding: serial, as: UTF8.self), distanceFromObject: distance)
    }
    return reading
  }

  /// Renders the reading as one NDJSON line.
  public func render(into buffer: inout NDJSONBuffer) {
    buffer.beginObject()
    buffer.field("sensorReadingTime", sensorReadingTime)
    buffer.field("serialNumber", serialNumber)
    buffer.field("distanceFromObject", measurement: distanceFromObject)
    buffer.endObject()
  }
}
