import Foundation
import Lakehouse
import Testing

/// `stedi pipeline run --json`: every source and table counted, strings escaped, seconds a number.
@Suite struct PipelineSummaryJSONTests {
  /// Quotes, a backslash, control characters, a slash and non-ASCII: what interpolation got wrong.
  static let awkward = "a \"quoted\" back\\slash\nnew line\ttab\u{1} / é"

  @Test func theFunnelDecodesWithEveryCountAndAnAwkwardFindingIntact() throws {
    var summary = PipelineSummary(profile: .udacity)
    summary.landingRows[.customer] = 7
    summary.tableRows[.machineLearningCurated] = 3
    var counts = LineCounts()
    counts.read = 10
    counts.accepted = 7
    counts.quarantined = 2
    counts.blank = 1
    summary.lines[.customer] = counts
    summary.quarantineReasons[.customer] = [.invalidJSON: 2]
    summary.erasedRecordsRefused = 4
    summary.qualityChecksRun = 5
    let finding = QualityFinding(check: "unique", table: "customer_trusted", message: Self.awkward)
    summary.qualityFailures = [finding]
    summary.seconds = 1.23456

    let json = summary.json()
    #expect(!json.contains("\n"), "one line")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(object["profile"] as? String == "udacity")
    let tables = try #require(object["tables"] as? [String: Int])
    #expect(tables.count == LandingSource.allCases.count + ZoneTable.allCases.count)
    #expect(tables["customer_landing"] == 7 && tables["accelerometer_landing"] == 0)
    #expect(tables["machine_learning_curated"] == 3 && tables["customer_trusted"] == 0)
    #expect(object["quarantined"] as? [String: Int] == ["customer": 2, "accelerometer": 0, "step_trainer": 0])
    let reasons = try #require(object["quarantineReasons"] as? [String: [String: Int]])
    #expect(reasons == ["customer": ["invalid_json": 2], "accelerometer": [:], "step_trainer": [:]])
    let lines = try #require(object["lines"] as? [String: [String: Int]])
    #expect(lines["customer"] == ["read": 10, "accepted": 7, "quarantined": 2, "blank": 1])
    #expect(lines["step_trainer"] == ["read": 0, "accepted": 0, "quarantined": 0, "blank": 0])
    #expect(object["erasedRecordsRefused"] as? Int == 4)
    let checks = try #require(object["checks"] as? [String: Any])
    #expect(checks["run"] as? Int == 5)
    #expect(checks["failed"] as? [String] == [finding.description])
    #expect(finding.description.hasSuffix(Self.awkward))
    #expect(object["published"] as? Bool == false)
    #expect(object["seconds"] as? Double == 1.235, "seconds rounded to the millisecond, as a number")
  }
}
