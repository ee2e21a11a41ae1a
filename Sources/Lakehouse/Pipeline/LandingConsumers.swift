// The per-chunk consumers that validate landing lines and keep what the rules let through.
// Filtering while parsing means rows that can never reach a trusted table are never stored.

struct CustomerConsumer: NDJSONLineConsumer {
  /// The dates a record may carry (the run's clock decides "the future").
  let times: RecordTimeWindow
  var records: [CustomerRecord] = []

  init(times: RecordTimeWindow) { self.times = times }

  mutating func consume(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) {
    records.append(try CustomerRecord.decode(line, times: times))
  }
}

/// Keeps readings of trusted customers (from their consent date on, when the rules say so).
struct TrustedAccelerometerConsumer: NDJSONLineConsumer {
  let subjects: ByteStringTable
  /// Per subject, the earliest timestamp allowed (Int64.min when there is no date filter).
  let allowedFrom: [Int64]
  let times: RecordTimeWindow
  var rows: [AccelerometerRow] = []
  var scratch: [UInt8] = []

  init(subjects: ByteStringTable, allowedFrom: [Int64], times: RecordTimeWindow) {
    self.subjects = subjects
    self.allowedFrom = allowedFrom
    self.times = times
  }

  mutating func consume(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) {
    var accepted: AccelerometerRow?
    try AccelerometerReading.decode(line, times: times, scratch: &scratch) { user, timestamp, x, y, z in
      guard let subject = subjects.id(ofIdentity: user), timestamp >= allowedFrom[Int(subject)] else { return }
      accepted = AccelerometerRow(subject: subject, timestamp: timestamp, x: x, y: y, z: z)
    }
    if let accepted { rows.append(accepted) }
  }
}

/// Keeps readings of serial numbers held by curated customers (from the earliest owner's consent on).
struct TrustedStepTrainerConsumer: NDJSONLineConsumer {
  let serials: ByteStringTable
  let allowedFrom: [Int64]
  let times: RecordTimeWindow
  var rows: [StepTrainerRow] = []
  var scratch: [UInt8] = []

  init(serials: ByteStringTable, allowedFrom: [Int64], times: RecordTimeWindow) {
    self.serials = serials
    self.allowedFrom = allowedFrom
    self.times = times
  }

  mutating func consume(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) {
    var accepted: StepTrainerRow?
    try StepTrainerReading.decode(line, times: times, scratch: &scratch) { serialNumber, time, distance in
      guard let serial = serials.id(ofIdentity: serialNumber), time >= allowedFrom[Int(serial)] else { return }
      accepted = StepTrainerRow(serial: serial, time: time, distance: distance)
    }
    if let accepted { rows.append(accepted) }
  }
}
