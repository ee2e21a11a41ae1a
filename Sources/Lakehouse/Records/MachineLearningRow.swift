/// One row of `machine_learning_curated`: a step-trainer reading paired with a phone reading.
public struct MachineLearningRow: Sendable, Hashable {
  public var sensorReadingTime: Int64
  public var serialNumber: String
  public var distanceFromObject: Double
  public var x: Double
  public var y: Double
  public var z: Double
  /// Keyed pseudonym of the customer (HMAC-SHA256 of the email, hex).
  public var subjectId: String
  /// The customer's email; present only in the udacity profile, which reproduces the rubric.
  public var user: String?
  /// Member names the schema does not know, kept so that audits can flag identifiers.
  public var otherFields: [String] = []

  public init(
    sensorReadingTime: Int64, serialNumber: String, distanceFromObject: Double, x: Double, y: Double, z: Double,
    subjectId: String, user: String? = nil
  ) {
    self.sensorReadingTime = sensorReadingTime
    self.serialNumber = serialNumber
    self.distanceFromObject = distanceFromObject
    self.x = x
    self.y = y
    self.z = z
    self.subjectId = subjectId
    self.user = user
  }

  /// Decodes and validates one line of the curated table.
  public static func decode(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) -> MachineLearningRow {
    var row = MachineLearningRow(
      sensorReadingTime: 0, serialNumber: "", distanceFromObject: 0, x: 0, y: 0, z: 0, subjectId: "")
    try decode(line) { fields in
      row = MachineLearningRow(
        sensorReadingTime: fields.sensorReadingTime,
        serialNumber: String(decoding: fields.serialNumber, as: UTF8.self),
        distanceFromObject: fields.distanceFromObject, x: fields.x, y: fields.y, z: fields.z,
        subjectId: String(decoding: fields.subjectId, as: UTF8.self),
        user: fields.user.map { String(decoding: $0, as: UTF8.self) })
      row.otherFields = fields.otherFields
    }
    return row
  }

  /// The fields of one line as bytes, for readers that must not build Strings per line.
  package struct Fields {
    package var sensorReadingTime: Int64 = 0
    package var distanceFromObject = 0.0
    package var x = 0.0
    package var y = 0.0
    package var z = 0.0
    package var serialNumber: UnsafeRawBufferPointer
    package var subjectId: UnsafeRawBufferPointer
    package var user: UnsafeRawBufferPointer?
    package var otherFields: [String]
  }

  /// Validates one line and hands its fields to `accept` as bytes.
  package static func decode(_ line: UnsafeBufferPointer<UInt8>, _ accept: (Fields) -> Void) throws(RecordError) {
    var scanner = try JSONObjectScanner(line: line)
    var seen = SeenFields()
    var time: Int64 = 0
    var distance = 0.0
    var x = 0.0
    var y = 0.0
    var z = 0.0
    var serial = JSONStringToken(start: 0, end: 0, escaped: false)
    var subject = serial
    var user: JSONStringToken?
    var other: [String] = []
    while let (key, value) = try scanner.nextMember() {
      guard let column = CuratedColumn.named(key, in: line) else {
        other.append(line.string(key))
        continue
      }
      try seen.mark(column.rawValue, column.label)
      switch column {
      case .sensorReadingTime: time = try line.integerField(value, column.label)
      case .serialNumber: serial = try line.stringField(value, column.label)
      case .distanceFromObject: distance = try line.numberField(value, column.label)
      case .x: x = try line.numberField(value, column.label)
      case .y: y = try line.numberField(value, column.label)
      case .z: z = try line.numberField(value, column.label)
      case .subjectId: subject = try line.stringField(value, column.label)
      case .user:
        if case .null = value { continue }
        user = try line.stringField(value, column.label)
      }
    }
    for column in CuratedColumn.allCases where column.column.required {
      try seen.require(column.rawValue, column.label)
    }
    // Escapes are rare in these columns: resolve them into owned arrays only when present.
    let owned = [serial, subject, user].map { token -> [UInt8]? in
      guard let token, token.escaped else { return nil }
      var bytes: [UInt8] = []
      line.unescapedString(token, into: &bytes)
      return bytes
    }
    func bytes(_ token: JSONStringToken, _ owned: [UInt8]?) -> UnsafeRawBufferPointer {
      if let owned { return owned.withUnsafeBytes { $0 } }
      return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(line)[token.start..<token.end])
    }
    withExtendedLifetime(owned) {
      accept(
        Fields(
          sensorReadingTime: time, distanceFromObject: distance, x: x, y: y, z: z,
          serialNumber: bytes(serial, owned[0]), subjectId: bytes(subject, owned[1]),
          user: user.map { bytes($0, owned[2]) }, otherFields: other))
    }
  }

  /// Renders the row as one NDJSON line, every column in the table's order.
  public func render(into buffer: inout NDJSONBuffer) {
    CuratedColumn.render(
      CuratedColumn.allCases, into: &buffer, sensorReadingTime: sensorReadingTime,
      quotedSerialNumber: NDJSONBuffer.quoted(serialNumber), distanceFromObject: distanceFromObject, x: x, y: y, z: z,
      quotedSubjectId: NDJSONBuffer.quoted(subjectId), quotedUser: user.map(NDJSONBuffer.quoted))
  }
}
