import Foundation
import Lakehouse
import StediTestSupport
import Testing

/// `stedi lake audit` as an auditor runs it: real process, real folders, exit codes 0 (clean),
/// 3 (findings) and 2 (errors), and the `--json` report.
@Suite struct LakeAuditCommandTests {
  @Test func cleanAfterAStrictRunFindingsAfterAUdacityRun() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    #expect(try StediProcess.run(["lake", "sample", "--lake", lake, "--customers", "40", "--seed", "3"]).status == 0)
    #expect(try StediProcess.run(["pipeline", "run", "--lake", lake]).status == 0)

    let clean = try StediProcess.run(["lake", "audit", "--lake", lake])
    #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
    #expect(clean.stdout.contains("findings: none"), "\(clean.stdout)")
    #expect(clean.stdout.contains("machine_learning_curated"))

    let cleanJSON = try StediProcess.run(["lake", "audit", "--lake", lake, "--json"])
    #expect(cleanJSON.status == 0)
    let report = try #require(
      try JSONSerialization.jsonObject(with: Data(cleanJSON.stdout.utf8)) as? [String: Any], "stdout is one JSON object"
    )
    #expect(report["clean"] as? Bool == true)
    #expect(report["findings"] as? [Any] != nil && (report["findings"] as? [Any])?.isEmpty == true)
    #expect(report["lastRunProfile"] as? String == "strict")
    let scanned = try #require(report["scanned"] as? [String: Any])
    let tables = try #require(scanned["tables"] as? [[String: Any]])
    #expect(
      tables.map { $0["table"] as? String } == [
        "customer_landing", "accelerometer_landing", "step_trainer_landing", "customer_trusted", "customers_curated",
        "accelerometer_trusted", "step_trainer_trusted", "machine_learning_curated", "customer_quarantine",
        "accelerometer_quarantine", "step_trainer_quarantine", "lake_metadata",
      ])

    // The same landing data under the rubric's rules breaks the promise.
    #expect(try StediProcess.run(["pipeline", "run", "--lake", lake, "--profile", "udacity"]).status == 0)
    let failing = try StediProcess.run(["lake", "audit", "--lake", lake, "--json"])
    #expect(failing.status == 3, "\(failing.stderr)")
    #expect(!failing.stdout.contains("@sample.test"), "the report must not show emails")
    let failed = try #require(try JSONSerialization.jsonObject(with: Data(failing.stdout.utf8)) as? [String: Any])
    #expect(failed["clean"] as? Bool == false)
    let findings = try #require(failed["findings"] as? [[String: Any]])
    let found = Set(findings.map { "\($0["check"] as? String ?? "") \($0["table"] as? String ?? "")" })
    #expect(found.contains("direct_identifier machine_learning_curated"), "\(found)")
    #expect(found.contains("consent customer_trusted"), "\(found)")
    for finding in findings {
      #expect((finding["rows"] as? Int ?? 0) > 0)
      let example = try #require(finding["example"] as? [String: Any])
      #expect(example["file"] is String && (example["line"] as? Int ?? 0) > 0)
      #expect(finding["detail"] is String)
    }

    let text = try StediProcess.run(["lake", "audit", "--lake", lake])
    #expect(text.status == 3)
    #expect(text.stdout.contains("FOUND direct_identifier in machine_learning_curated"), "\(text.stdout)")
  }

  @Test func errorsExitWith2AndOneLine() throws {
    let missing = try StediProcess.run(["lake", "audit", "--lake", "/nonexistent/stedi-lake"])
    #expect(missing.status == 2)
    #expect(
      missing.stderr.contains("no lake at /nonexistent/stedi-lake: the folder does not exist"), "\(missing.stderr)")

    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let noKey = try StediProcess.run([
      "lake", "audit", "--lake", scratch.path, "--key-file", scratch.path + "/none.key",
    ])
    #expect(noKey.status == 2)
    #expect(noKey.stderr.contains("no pseudonym key file at \(scratch.path)/none.key"), "\(noKey.stderr)")

    // An erasure list whose key is lost cannot be checked: an error, not a clean report.
    try FileManager.default.createDirectory(atPath: scratch.path + "/_stedi", withIntermediateDirectories: true)
    try #"{"entries": [{"subject": "00", "erasedAt": 1, "serials": []}]}"#.write(
      toFile: scratch.path + "/_stedi/erasures.json", atomically: true, encoding: .utf8)
    let lostKey = try StediProcess.run(["lake", "audit", "--lake", scratch.path])
    #expect(lostKey.status == 2)
    #expect(lostKey.stderr.hasPrefix("stedi: error: _stedi/erasure.key"), "\(lostKey.stderr)")
    #expect(lostKey.stderr.split(separator: "\n").count == 1)
  }
}

extension LakeAuditCommandTests {
  /// `stedi lake audit` on an S3 lake in a real SeaweedFS server: the same report as a folder gives,
  /// and S3's LastModified times judging quarantine retention.
  ///
  /// Nested in `LakeAuditCommandTests` so that test.sh's phase of CLI tests on servers runs it.
  @Suite(
    .enabled(
      if: SeaweedFSServer.testsEnabled,
      "SeaweedFS's weed is not installed: run `bash scripts/test.sh` or `bash scripts/install-seaweedfs.sh`"))
  struct OnS3 {
    @Test func auditsAnS3LakeLikeAFolder() async throws {
      let server = try await SeaweedFSServer.shared()
      let storage = try await server.freshLake()
      let scratch = try TemporaryFolder()
      defer { scratch.remove() }
      let local = scratch.path + "/lake"
      #expect(
        try StediProcess.run(["lake", "sample", "--lake", local, "--customers", "30", "--seed", "8"]).status == 0)
      // NDJSON tables: a row is planted below by appending a line (the Parquet tables' audit on
      // any storage is ComplianceAuditTests').
      #expect(try StediProcess.run(["pipeline", "run", "--lake", local, "--format", "ndjson"]).status == 0)
      // Everything the folder lake holds, metadata included (the pseudonym key), goes into S3.
      let files = FileManager.default.enumerator(atPath: local)!.compactMap { $0 as? String }
        .filter { !($0 as NSString).lastPathComponent.hasPrefix(".") }
      for key in files {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: "\(local)/\(key)", isDirectory: &isDirectory),
          !isDirectory.boolValue
        else { continue }
        try await storage.put(key, bytes: Array(FileManager.default.contents(atPath: "\(local)/\(key)")!))
      }
      let environment = [
        "AWS_ACCESS_KEY_ID": server.accessKey, "AWS_SECRET_ACCESS_KEY": server.secretKey, "AWS_REGION": server.region,
      ]
      let arguments = ["lake", "audit", "--lake", storage.location, "--endpoint", server.endpoint, "--json"]

      let remote = try StediProcess.run(arguments, environment: environment)
      #expect(remote.status == 0, "\(remote.stdout)\(remote.stderr)")
      let folder = try StediProcess.run(["lake", "audit", "--lake", local, "--json"])
      func report(_ output: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any] ?? [:]
      }
      func scanned(_ output: String) -> NSDictionary? { report(output)["scanned"] as? NSDictionary }
      #expect(scanned(remote.stdout) != nil && scanned(remote.stdout) == scanned(folder.stdout))
      /// The findings of `output` as check, table and rows.
      func findings(_ output: String) -> [[String]] {
        (report(output)["findings"] as? [[String: Any]] ?? []).map { finding in
          [finding["check"] as? String ?? "", finding["table"] as? String ?? "", "\(finding["rows"] as? Int ?? -1)"]
        }
      }

      // S3's LastModified dates the landing files: with no retention at all every quarantined line is overdue.
      let overdue = try StediProcess.run(arguments + ["--quarantine-retention-days", "0"], environment: environment)
      #expect(overdue.status == 3, "\(overdue.stderr)")
      #expect(
        findings(overdue.stdout).contains(["quarantine_retention", "customer_quarantine", "4"]), "\(overdue.stdout)")

      // A customer without consent planted in S3's customer_trusted is found there.
      func records(_ bytes: [UInt8]) -> [CustomerRecord] {
        bytes.split(separator: 0x0A).compactMap { line in
          try? Array(line).withUnsafeBufferPointer { try CustomerRecord.decode($0) }
        }
      }
      let trustedKey = "customer/trusted/part-00000.json"
      let trusted = try await storage.get(trustedKey)
      let consenting = Set(records(trusted).map(\.email))
      var landing: [CustomerRecord] = []
      for object in try await storage.list(prefix: "customer/landing/") {
        landing += records(try await storage.get(object.key))
      }
      let refuser = try #require(landing.first { !consenting.contains($0.email) })
      var row = NDJSONBuffer()
      refuser.render(into: &row)
      try await storage.put(trustedKey, bytes: trusted + row.bytes)
      let planted = try StediProcess.run(arguments, environment: environment)
      #expect(planted.status == 3, "\(planted.stderr)")
      #expect(findings(planted.stdout).contains(["consent", "customer_trusted", "1"]), "\(planted.stdout)")
    }
  }
}
