import Foundation
import StediTestSupport
import Testing

@testable import Lakehouse

/// The public STEDI data gives the rubric's counts under udacity and the privacy-correct counts under strict.
@Suite(.enabled(if: UdacityDataset.path != nil, Comment(rawValue: LakeFixtures.missingDatasetMessage)))
struct UdacityDatasetTests {
  static let expected = UdacityDataset.expectedCounts

  @Test(arguments: [PipelineProfile.udacity, .strict])
  func countsMatchTheRubricTable(profile: PipelineProfile) async throws {
    let lake = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: lake).remove() }
    try LakeFixtures.copyLanding(from: UdacityDataset.path!, to: lake)

    let summary = try await LakeFixtures.run(lake, profile)

    #expect(summary.landingRows == [.customer: 956, .accelerometer: 81_273, .stepTrainer: 28_680])
    #expect(summary.tableRows == Self.expected[profile]!)
    #expect(summary.lines.values.allSatisfy { $0.quarantined == 0 && $0.blank == 0 })
    #expect(summary.qualityFailures == [])
    // The published files hold exactly the counted rows.
    for (table, rows) in Self.expected[profile]! {
      let schema = TableSchema.zone(table, rules: ZoneRules(profile: profile))
      let data = try await ZoneTableReader(lake: try Lake(root: lake)).lines(schema)
      #expect(data.filter { $0 == UInt8(ascii: "\n") }.count == rows, "\(table)")
    }
  }

  /// The rubric's 43,681 includes 2,700 rows that pair one customer's step reading with another's phone reading.
  @Test func udacityJoinOnTimeAloneCrossesCustomers() async throws {
    let lake = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: lake).remove() }
    try LakeFixtures.copyLanding(from: UdacityDataset.path!, to: lake)
    _ = try await LakeFixtures.run(lake, .udacity)

    var owner: [String: String] = [:]
    try forEachLine("\(lake)/customer/trusted/part-00000.json") { owner[try CustomerRecord.decode($0).email] = "" }
    try forEachLine("\(lake)/customer/landing") { line in
      let customer = try CustomerRecord.decode(line)
      owner[customer.email] = customer.serialNumber
    }
    var crossing = 0
    try forEachLine("\(lake)/step_trainer/curated/part-00000.json") { line in
      let row = try MachineLearningRow.decode(line)
      if owner[row.user!] != row.serialNumber { crossing += 1 }
    }
    #expect(crossing == 2_700)
  }
}

/// Calls `body` with each line of a file, or of every `.json` file in a folder.
func forEachLine(_ path: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
  var isDirectory: ObjCBool = false
  FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
  let files =
    isDirectory.boolValue
    ? try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".json") }.map { "\(path)/\($0)" }
    : [path]
  for file in files {
    let data = try #require(FileManager.default.contents(atPath: file))
    for line in data.split(separator: UInt8(ascii: "\n")) {
      try Array(line).withUnsafeBufferPointer { try body($0) }
    }
  }
}
