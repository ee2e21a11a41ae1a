// Consumers that read published tables back for the quality assertions, into the same compact
// rows the engine uses, noting rows that reference unknown customers or serial numbers.

struct RecordCollector<Record>: NDJSONLineConsumer {
  let decode: (UnsafeBufferPointer<UInt8>) throws(RecordError) -> Record
  var records: [Record] = []

  init(decode: @escaping (UnsafeBufferPointer<UInt8>) throws(RecordError) -> Record) { self.decode = decode }

  mutating func consume(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) {
    records.append(try decode(line))
  }
}

struct CheckedAccelerometerConsumer: NDJSONLineConsumer {
  let subjects: ByteStringTable
  var rows: [AccelerometerRow] = []
  var unknownUsers = Violations()
  var scratch: [UInt8] = []

  init(subjects: ByteStringTable) { self.subjects = subjects }

  mutating func consume(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) {
    var row: AccelerometerRow?
    var unknown: String?
    try AccelerometerReading.decode(line, scratch: &scratch) { user, timestamp, x, y, z in
      guard let subject = subjects.id(ofIdentity: user) else {
        unknown = String(decoding: user, as: UTF8.self)
        return
      }
      row = AccelerometerRow(subject: subject, timestamp: timestamp, x: x, y: y, z: z)
    }
    if let row { rows.append(row) }
    if let unknown { unknownUsers.note(unknown) }
  }
}

struct CheckedStepTrainerConsumer: NDJSONLineConsumer {
  let serials: ByteStringTable
  var rows: [StepTrainerRow] = []
  var unknownSerials = Violations()
  var scratch: [UInt8] = []

  init(serials: ByteStringTable) { self.serials = serials }

  mutating func consume(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) {
    var row: StepTrainerRow?
    var unknown: String?
    try StepTrainerReading.decode(line, scratch: &scratch) { serialNumber, time, distance in
      guard let serial = serials.id(ofIdentity: serialNumber) else {
        unknown = String(decoding: serialNumber, as: UTF8.self)
        return
      }
      row = StepTrainerRow(serial: serial, time: time, distance: distance)
    }
    if let row { rows.append(row) }
    if let unknown { unknownSerials.note(unknown) }
  }
}

struct CheckedCuratedConsumer: NDJSONLineConsumer {
  let serials: ByteStringTable
  /// Subject ids of trusted customers, in the same id order as `subjects`.
  let pseudonyms: ByteStringTable
  let subjects: ByteStringTable
  var expectEmail = false
  var rows: [CuratedRow] = []
  var violations = CuratedViolations()

  init(serials: ByteStringTable, pseudonyms: ByteStringTable, subjects: ByteStringTable) {
    self.serials = serials
    self.pseudonyms = pseudonyms
    self.subjects = subjects
  }

  mutating func consume(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) {
    try MachineLearningRow.decode(line) { fields in check(fields) }
  }

  private mutating func check(_ fields: MachineLearningRow.Fields) {
    if !fields.otherFields.isEmpty {
      violations.identifier.note("unexpected fields \(fields.otherFields.joined(separator: ", "))")
    }
    if !expectEmail, fields.user != nil { violations.identifier.note("the row carries the customer's email in 'user'") }
    if fields.serialNumber.contains(UInt8(ascii: "@")) || fields.subjectId.contains(UInt8(ascii: "@")) {
      violations.identifier.note("a value looks like an email address")
    }
    guard let serial = serials.id(ofIdentity: fields.serialNumber) else {
      violations.unknownSerial.note(String(decoding: fields.serialNumber, as: UTF8.self))
      return
    }
    guard let subject = pseudonyms.id(of: fields.subjectId) else {
      violations.unknownSubject.note(String(decoding: fields.subjectId, as: UTF8.self))
      return
    }
    if expectEmail, fields.user.flatMap({ subjects.id(ofIdentity: $0) }) != subject {
      let user = fields.user.map { String(decoding: $0, as: UTF8.self) } ?? "null"
      violations.userMismatch.note(
        "user \(user) does not match subjectId \(String(decoding: fields.subjectId, as: UTF8.self))")
    }
    let time = fields.sensorReadingTime
    rows.append(
      CuratedRow(
        step: StepTrainerRow(serial: serial, time: time, distance: fields.distanceFromObject),
        reading: AccelerometerRow(subject: subject, timestamp: time, x: fields.x, y: fields.y, z: fields.z)))
  }
}
