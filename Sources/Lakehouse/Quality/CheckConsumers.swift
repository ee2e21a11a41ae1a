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
      guard let subject = subjects.id(of: user) else {
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
      guard let serial = serials.id(of: serialNumber) else {
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
    let row = try MachineLearningRow.decode(line)
    if !row.otherFields.isEmpty {
      violations.identifier.note("unexpected fields \(row.otherFields.joined(separator: ", "))")
    }
    if !expectEmail, row.user != nil { violations.identifier.note("the row carries the customer's email in 'user'") }
    if row.serialNumber.contains("@") || row.subjectId.contains("@") {
      violations.identifier.note("a value looks like an email address")
    }
    guard let serial = serials.id(of: row.serialNumber) else {
      violations.unknownSerial.note(row.serialNumber)
      return
    }
    guard let subject = pseudonyms.id(of: row.subjectId) else {
      violations.unknownSubject.note(row.subjectId)
      return
    }
    if expectEmail, row.user.flatMap({ subjects.id(of: $0) }) != subject {
      violations.userMismatch.note("user \(row.user ?? "null") does not match subjectId \(row.subjectId)")
    }
    rows.append(
      CuratedRow(
        step: StepTrainerRow(serial: serial, time: row.sensorReadingTime, distance: row.distanceFromObject),
        reading: AccelerometerRow(subject: subject, timestamp: row.sensorReadingTime, x: row.x, y: row.y, z: row.z)))
  }
}
