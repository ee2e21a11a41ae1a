import Foundation
import Testing

@testable import LakePrivacy
@testable import Lakehouse

/// `stedi lake audit --json` and `stedi lake erase --json` (and the erasure log's lines): every
/// field present as documented, and strings with quotes, backslashes and newlines intact.
@Suite struct ReportJSONTests {
  /// Quotes, a backslash, control characters, a slash and non-ASCII: what interpolation got wrong.
  static let awkward = "a \"quoted\" back\\slash\nnew line\ttab\u{1} / é"

  private func object(_ json: String) throws -> [String: Any] {
    #expect(!json.contains("\n"), "one line")
    return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
  }

  @Test func theComplianceReportKeepsAwkwardStringsAndANullLastRun() throws {
    let finding = ComplianceFinding(
      check: .consent, table: "customer_trusted", count: 2,
      example: .init(file: "customer/trusted/part-00000.json", line: 3), detail: Self.awkward)
    let report = ComplianceReport(
      lake: "/tmp/\(Self.awkward)", auditedAt: Date(timeIntervalSince1970: 86_400), lastRunProfile: nil,
      pseudonymKey: .absent, consentingCustomers: 5, erasedCustomers: 1, quarantineRetentionDays: 30,
      tables: [.init(table: "customer_trusted", folder: "customer/trusted", files: 1, rows: 9, unreadableRows: 0)],
      objectsSkipped: 2, findings: [finding])
    let json = report.json()
    #expect(json.contains("customer/trusted"), "slashes are not escaped")
    let object = try object(json)
    #expect(object["lake"] as? String == "/tmp/\(Self.awkward)")
    #expect(object["auditedAt"] as? String == "1970-01-02T00:00:00Z")
    #expect(object["clean"] as? Bool == false && object["rules"] as? String == "strict")
    #expect(object.keys.contains("lastRunProfile") && object["lastRunProfile"] is NSNull, "null, not absent")
    #expect(object["pseudonymKey"] as? String == "absent")
    #expect(object["consentingCustomers"] as? Int == 5 && object["erasedCustomers"] as? Int == 1)
    #expect(object["quarantineRetentionDays"] as? Int == 30)
    let scanned = try #require(object["scanned"] as? [String: Any])
    #expect(scanned["files"] as? Int == 1 && scanned["objectsSkipped"] as? Int == 2)
    let tables = try #require(scanned["tables"] as? [[String: Any]])
    #expect(tables.count == 1)
    #expect(tables[0]["table"] as? String == "customer_trusted" && tables[0]["folder"] as? String == "customer/trusted")
    #expect(
      tables[0]["files"] as? Int == 1 && tables[0]["rows"] as? Int == 9 && tables[0]["unreadableRows"] as? Int == 0)
    let findings = try #require(object["findings"] as? [[String: Any]])
    #expect(findings.count == 1)
    #expect(findings[0]["check"] as? String == "consent" && findings[0]["table"] as? String == "customer_trusted")
    #expect(findings[0]["rows"] as? Int == 2 && findings[0]["detail"] as? String == Self.awkward)
    let example = try #require(findings[0]["example"] as? [String: Any])
    #expect(example["file"] as? String == "customer/trusted/part-00000.json" && example["line"] as? Int == 3)

    var ran = report
    ran.lastRunProfile = .udacity
    #expect(try self.object(ran.json())["lastRunProfile"] as? String == "udacity")
  }

  @Test func theErasureReportKeepsAnAwkwardIngestLogNote() throws {
    var report = ErasureReport(subject: "0123abcd")
    report.customerRecordsFound = 2
    report.uniqueSerials = 1
    report.sharedSerials = 3
    report.rowsRemoved = ["customer_landing": 2, "machine_learning_curated": 40]
    report.filesScanned = 12
    report.filesRewritten = 4
    report.filesDeleted = 1
    report.oldFilesDeleted = 5
    report.deltaCommits = 3
    report.seconds = 0.0504
    report.ingestLog = Self.awkward
    let at = Date(timeIntervalSince1970: 1.5)
    let object = try object(report.json(at: at))
    #expect(object["at"] as? String == "1970-01-01T00:00:01.500Z")
    #expect(object["subject"] as? String == "0123abcd" && object["resumed"] as? Bool == false)
    #expect(object["customerRecordsFound"] as? Int == 2)
    #expect(object["uniqueSerials"] as? Int == 1 && object["sharedSerials"] as? Int == 3)
    let removed = try #require(object["rowsRemoved"] as? [String: Int])
    #expect(removed.count == LakeZoneFile.allCases.count, "every table, 0 where nothing was removed")
    #expect(removed["customer_landing"] == 2 && removed["machine_learning_curated"] == 40)
    #expect(removed["accelerometer_trusted"] == 0)
    #expect(object["filesScanned"] as? Int == 12 && object["filesRewritten"] as? Int == 4)
    #expect(object["filesDeleted"] as? Int == 1)
    #expect(object["oldFilesDeleted"] as? Int == 5 && object["deltaCommits"] as? Int == 3)
    #expect(report.text().contains("3 Delta versions committed, 5 files of older versions deleted"))
    #expect(object["seconds"] as? Double == 0.05, "seconds rounded to the millisecond, as a number")
    #expect(object["foundNothing"] as? Bool == false)
    #expect(object["ingestLog"] as? String == Self.awkward)

    // Re-applying the whole list: no `foundNothing`; no ingest log looked at and no time: left out.
    let everyone = try self.object(ErasureReport(subject: "*").json())
    #expect(everyone["subject"] as? String == "*")
    #expect(!everyone.keys.contains("foundNothing") && !everyone.keys.contains("ingestLog"))
    #expect(!everyone.keys.contains("at"))
  }
}
