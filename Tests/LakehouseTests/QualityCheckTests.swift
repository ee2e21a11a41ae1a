import Foundation
import StediTestSupport
import Testing

@testable import Lakehouse

/// `pipeline check` catches each kind of broken table: every assertion can fail, and says where.
@Suite struct QualityCheckTests {
  /// A lake after a clean strict run, and a way to edit one of its published tables.
  struct CheckedLake {
    let root: String

    /// NDJSON tables, which the tests edit line by line (ParquetTablesTests damages Parquet ones).
    init(_ name: String = #function, profile: PipelineProfile = .strict) async throws {
      root = try TemporaryFolder(name, prefix: "lakehouse").path
      try SampleLakeGenerator(customers: 60, seed: 21).write(to: root)
      let summary = try await LakeFixtures.run(root, profile, format: .ndjson)
      #expect(summary.qualityFailures == [])
    }

    func lines(_ table: ZoneTable) throws -> [String] {
      try String(contentsOfFile: "\(root)/\(table.folder)/part-00000.json", encoding: .utf8)
        .split(separator: "\n").map(String.init)
    }

    func replace(_ table: ZoneTable, with lines: [String]) throws {
      try (lines.joined(separator: "\n") + "\n").write(
        toFile: "\(root)/\(table.folder)/part-00000.json", atomically: true, encoding: .utf8)
    }

    func findings() async throws -> [QualityFinding] {
      try await QualityCheck(lake: try Lake(root: root), key: LakeFixtures.testKey).run().findings
    }

    func remove() { TemporaryFolder(existing: root).remove() }
  }

  @Test func cleanRunPassesEveryCheck() async throws {
    let lake = try await CheckedLake()
    defer { lake.remove() }
    let report = try await QualityCheck(lake: try Lake(root: lake.root), key: LakeFixtures.testKey).run()
    #expect(report.passed)
    #expect(report.checksRun >= 30)
  }

  @Test func readingFromBeforeConsentIsFound() async throws {
    let lake = try await CheckedLake()
    defer { lake.remove() }
    var rows = try lake.lines(.accelerometerTrusted)
    let reading = try Array(rows[0].utf8).withUnsafeBufferPointer { try AccelerometerReading.decode($0) }
    var early = reading
    early.timestamp = 0
    var buffer = NDJSONBuffer()
    early.render(into: &buffer)
    rows.insert(String(decoding: buffer.bytes.dropLast(), as: UTF8.self), at: 0)
    try lake.replace(.accelerometerTrusted, with: rows)
    let findings = try await lake.findings()
    #expect(findings.contains { $0.table == "accelerometer_trusted" && $0.check == "consent" }, "\(findings)")
  }

  @Test func readingOfAnUnknownCustomerIsFound() async throws {
    let lake = try await CheckedLake()
    defer { lake.remove() }
    var rows = try lake.lines(.accelerometerTrusted)
    rows.append("{\"user\":\"stranger@sample.test\",\"timestamp\":1,\"x\":0.0,\"y\":0.0,\"z\":0.0}")
    try lake.replace(.accelerometerTrusted, with: rows)
    #expect(
      try await lake.findings().contains { $0.check == "relationship" && $0.message.contains("stranger@sample.test") })
  }

  @Test func customerWhoWithdrewConsentIsFound() async throws {
    let lake = try await CheckedLake()
    defer { lake.remove() }
    // A later landing record withdraws the first trusted customer's consent; the tables are stale.
    let first = try Array(try lake.lines(.customerTrusted)[0].utf8).withUnsafeBufferPointer {
      try CustomerRecord.decode($0)
    }
    var withdrawal = first
    withdrawal.lastUpdateDate += 1
    withdrawal.shareWithResearchAsOfDate = nil
    var buffer = NDJSONBuffer()
    withdrawal.render(into: &buffer)
    try Data(buffer.bytes).write(to: URL(fileURLWithPath: "\(lake.root)/customer/landing/withdrawal.json"))
    let findings = try await lake.findings()
    #expect(findings.contains { $0.check == "current_consent" && $0.message.contains(first.email) }, "\(findings)")
  }

  @Test func stepReadingPairedWithAnotherCustomersPhoneIsFound() async throws {
    let lake = try await CheckedLake()
    defer { lake.remove() }
    let curated = try lake.lines(.machineLearningCurated)
    let rows = try curated.map { line in
      try Array(line.utf8).withUnsafeBufferPointer { try MachineLearningRow.decode($0) }
    }
    // Give the first row the subject of a row whose serial number differs.
    let other = try #require(
      rows.first { $0.serialNumber != rows[0].serialNumber && $0.subjectId != rows[0].subjectId })
    var crossed = rows[0]
    crossed.subjectId = other.subjectId
    var buffer = NDJSONBuffer()
    crossed.render(into: &buffer)
    try lake.replace(
      .machineLearningCurated, with: [String(decoding: buffer.bytes.dropLast(), as: UTF8.self)] + curated)
    let findings = try await lake.findings()
    #expect(findings.contains { $0.check == "owner_join" }, "\(findings)")
  }

  @Test func subjectIdUnderAnotherKeyIsFound() async throws {
    let lake = try await CheckedLake()
    defer { lake.remove() }
    let report = try await QualityCheck(
      lake: try Lake(root: lake.root), key: PseudonymKey(bytes: Array(repeating: 1, count: 32))
    )
    .run()
    #expect(report.findings.contains { $0.check == "pseudonym" })
  }

  @Test func malformedRowInAPublishedTableIsFound() async throws {
    let lake = try await CheckedLake()
    defer { lake.remove() }
    try lake.replace(.stepTrainerTrusted, with: try lake.lines(.stepTrainerTrusted) + ["{\"sensorReadingTime\": 1}"])
    let findings = try await lake.findings()
    #expect(findings.contains { $0.check == "well_formed" && $0.message.contains("serialNumber") }, "\(findings)")
  }

  @Test func duplicateCustomerRowIsFound() async throws {
    let lake = try await CheckedLake()
    defer { lake.remove() }
    let rows = try lake.lines(.customerTrusted)
    try lake.replace(.customerTrusted, with: rows + [rows[0]])
    #expect(try await lake.findings().contains { $0.table == "customer_trusted" && $0.check == "unique" })
  }

  @Test func checkBeforeAnyRunSaysSo() async throws {
    let root = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: root).remove() }
    let report = try await QualityCheck(lake: try Lake(root: root), key: LakeFixtures.testKey).run()
    #expect(report.findings.map(\.check) == ["ran"])
  }
}
