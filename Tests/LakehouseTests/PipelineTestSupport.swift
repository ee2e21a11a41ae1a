// Shared helpers of PrivacyPropertyTests and PipelineRulesTests: a throwaway filesystem lake
// that tests fill with landing NDJSON, run the zone pipeline on, and read the five published
// tables back from. Everything is named `Privacy…` so it cannot clash with other test files.

import Foundation
import StediTestSupport
import Testing

@testable import Lakehouse

/// The key every privacy test uses unless it says otherwise.
let privacyTestKey = PseudonymKey(bytes: Array(repeating: 7, count: 32))

/// A customer line as it lands: the record, and whether an absent consent is written as an
/// explicit `"shareWithResearchAsOfDate": null` instead of leaving the key out.
struct PrivacyLandingCustomer: Sendable, Hashable {
  var record: CustomerRecord
  var explicitNullConsent: Bool = false

  init(_ record: CustomerRecord, explicitNullConsent: Bool = false) {
    self.record = record
    self.explicitNullConsent = explicitNullConsent
  }

  func render(into buffer: inout NDJSONBuffer) {
    guard explicitNullConsent, record.shareWithResearchAsOfDate == nil else {
      record.render(into: &buffer)
      return
    }
    var line = NDJSONBuffer()
    record.render(into: &line)
    // `render` leaves an absent consent out; put the key back in with a JSON null.
    var bytes = line.bytes
    precondition(bytes.suffix(2) == [UInt8(ascii: "}"), UInt8(ascii: "\n")])
    bytes.removeLast(2)
    bytes.append(contentsOf: Array(",\"shareWithResearchAsOfDate\":null}\n".utf8))
    buffer.appendRaw(contentsOf: bytes)
  }
}

/// The five output tables of a run, decoded, plus the raw bytes of each.
struct PrivacyTables {
  var customerTrusted: [CustomerRecord]
  var accelerometerTrusted: [AccelerometerReading]
  var customersCurated: [CustomerRecord]
  var stepTrainerTrusted: [StepTrainerReading]
  var machineLearningCurated: [MachineLearningRow]
  var raw: [ZoneTable: [UInt8]]
}

struct PrivacyTableMissing: Error, CustomStringConvertible {
  var path: String
  var description: String { "table file \(path) was not published" }
}

/// A lake in its own folder under the temporary directory. Call `remove()` when done.
///
/// Tests state times as small numbers (1, 100, 200) to keep the rules readable; the lake holds
/// them as `epoch` + that, since the pipeline quarantines times before 2000. Landing writes add
/// `epoch` and `tables()` subtracts it, so tests read back the times they wrote.
struct PrivacyLake {
  let root: String

  /// 2023-11-14T22:13:20Z: what a test's time 0 is on disk.
  static let epoch: Int64 = 1_700_000_000_000

  init(_ tag: String = "privacy") throws {
    root = try TemporaryFolder(tag, prefix: "lakehouse").path
  }

  func remove() { TemporaryFolder(existing: root).remove() }

  // MARK: Landing

  /// Writes `bytes` as `<lake>/<source>/landing/<file>` (file may contain subfolders).
  func write(_ source: LandingSource, file: String, bytes: [UInt8]) throws {
    let url = URL(fileURLWithPath: "\(root)/\(source.landingFolder)/\(file)")
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: url)
  }

  func writeCustomers(_ customers: [PrivacyLandingCustomer], file: String = "customers.json") throws {
    var buffer = NDJSONBuffer()
    for var customer in customers {
      customer.record = customer.record.shifted(by: Self.epoch)
      customer.render(into: &buffer)
    }
    try write(.customer, file: file, bytes: buffer.bytes)
  }

  func writeCustomers(_ records: [CustomerRecord], file: String = "customers.json") throws {
    try writeCustomers(records.map { PrivacyLandingCustomer($0) }, file: file)
  }

  func writeAccelerometer(_ readings: [AccelerometerReading], file: String = "accelerometer.json") throws {
    var buffer = NDJSONBuffer()
    for var reading in readings {
      reading.timestamp += Self.epoch
      reading.render(into: &buffer)
    }
    try write(.accelerometer, file: file, bytes: buffer.bytes)
  }

  func writeStepTrainer(_ readings: [StepTrainerReading], file: String = "step_trainer.json") throws {
    var buffer = NDJSONBuffer()
    for var reading in readings {
      reading.sensorReadingTime += Self.epoch
      reading.render(into: &buffer)
    }
    try write(.stepTrainer, file: file, bytes: buffer.bytes)
  }

  // MARK: Running and reading back

  @discardableResult
  func run(
    _ profile: PipelineProfile, key: PseudonymKey = privacyTestKey, format: TableFormat? = nil
  ) async throws -> PipelineSummary {
    try await ZonePipeline(lake: try Lake(root: root), rules: ZoneRules(profile: profile), key: key, format: format)
      .run()
  }

  /// The table's rows as NDJSON lines, whichever format the run wrote (Parquet rows rendered).
  func rawTable(_ table: ZoneTable) async throws -> [UInt8] {
    let lake = try Lake(root: root)
    let schema = TableSchema.zone(table, rules: ZoneRules(profile: RunRecord.read(from: lake)?.profile ?? .strict))
    if ZoneTableReader.format(of: table.folder, in: lake) == .ndjson {
      let path = "\(root)/\(table.folder)/part-00000.json"
      guard let data = FileManager.default.contents(atPath: path) else { throw PrivacyTableMissing(path: path) }
      return Array(data)
    }
    return try await ZoneTableReader(lake: lake).lines(schema)
  }

  func tables() async throws -> PrivacyTables {
    var raw: [ZoneTable: [UInt8]] = [:]
    for table in ZoneTable.allCases { raw[table] = try await rawTable(table) }
    return PrivacyTables(
      customerTrusted: try Self.decodeLines(raw[.customerTrusted]!, CustomerRecord.decode).map {
        $0.shifted(by: -Self.epoch)
      },
      accelerometerTrusted: try Self.decodeLines(raw[.accelerometerTrusted]!, AccelerometerReading.decode).map {
        var reading = $0
        reading.timestamp -= Self.epoch
        return reading
      },
      customersCurated: try Self.decodeLines(raw[.customersCurated]!, CustomerRecord.decode).map {
        $0.shifted(by: -Self.epoch)
      },
      stepTrainerTrusted: try Self.decodeLines(raw[.stepTrainerTrusted]!, StepTrainerReading.decode).map {
        var reading = $0
        reading.sensorReadingTime -= Self.epoch
        return reading
      },
      machineLearningCurated: try Self.decodeLines(raw[.machineLearningCurated]!, MachineLearningRow.decode).map {
        var row = $0
        row.sensorReadingTime -= Self.epoch
        return row
      },
      raw: raw)
  }

  static func decodeLines<Row>(
    _ bytes: [UInt8], _ decode: (UnsafeBufferPointer<UInt8>) throws(RecordError) -> Row
  ) throws -> [Row] {
    var rows: [Row] = []
    for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
      let lineBytes = Array(line)
      rows.append(try lineBytes.withUnsafeBufferPointer { (pointer) throws(RecordError) -> Row in try decode(pointer) })
    }
    return rows
  }

  // MARK: Building records

  static func customer(
    _ email: String, serial: String, updated: Int64, consent: Int64?, registered: Int64 = 1
  ) -> CustomerRecord {
    CustomerRecord(
      customerName: "Customer \(email.prefix(while: { $0 != "@" }))", email: email, phone: nil, birthDay: nil,
      serialNumber: serial, registrationDate: registered, lastUpdateDate: updated,
      shareWithResearchAsOfDate: consent)
  }

  static func phone(_ user: String, at timestamp: Int64, x: Double = 0.5, y: Double = -1, z: Double = 2)
    -> AccelerometerReading
  {
    AccelerometerReading(user: user, timestamp: timestamp, x: x, y: y, z: z)
  }

  static func step(_ serial: String, at time: Int64, distance: Double = 218) -> StepTrainerReading {
    StepTrainerReading(sensorReadingTime: time, serialNumber: serial, distanceFromObject: distance)
  }
}

extension CustomerRecord {
  /// The record with every date moved by `offset` milliseconds (absent consents stay absent).
  func shifted(by offset: Int64) -> CustomerRecord {
    var record = self
    record.registrationDate += offset
    record.lastUpdateDate += offset
    record.shareWithResearchAsOfDate = record.shareWithResearchAsOfDate.map { $0 + offset }
    record.shareWithPublicAsOfDate = record.shareWithPublicAsOfDate.map { $0 + offset }
    record.shareWithFriendsAsOfDate = record.shareWithFriendsAsOfDate.map { $0 + offset }
    return record
  }
}

extension Array where Element == UInt8 {
  /// Whether these bytes contain `needle` as a byte substring.
  func privacyContains(_ needle: String) -> Bool {
    let pattern = Array(needle.utf8)
    guard !pattern.isEmpty, pattern.count <= count else { return pattern.isEmpty }
    for start in 0...(count - pattern.count) where self[start] == pattern[0] {
      if self[start..<(start + pattern.count)].elementsEqual(pattern) { return true }
    }
    return false
  }
}
