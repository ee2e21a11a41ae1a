import Foundation
import Lakehouse
import StediTestSupport
import Testing

/// `stedi lake erase` as a user runs it: on a folder lake with the ingest service running, and on
/// an S3 lake; afterwards nothing of the customer is in any file, and nothing brings them back.
@Suite(.serialized) struct LakeEraseCommandTests {
  /// A curated customer of `lake` with a serial number nobody else holds: email, name, phone, serial.
  static func uniqueCustomer(_ lake: String) throws -> [String: String] {
    func records(_ folder: String) -> [[String: Any]] {
      let files = FileManager.default.enumerator(atPath: "\(lake)/\(folder)")?.compactMap { $0 as? String } ?? []
      return files.filter { ($0.hasSuffix(".json") && !$0.contains("_delta_log")) || $0.hasSuffix(".parquet") }.flatMap
      {
        file in
        String(
          decoding: searchable(file, Array(FileManager.default.contents(atPath: "\(lake)/\(folder)/\(file)")!)),
          as: UTF8.self
        )
        .split(separator: "\n").compactMap {
          try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
      }
    }
    let landing = records("customer/landing")
    let customer = try #require(
      records("customer/curated").first { curated in
        landing.filter { $0["serialNumber"] as? String == curated["serialNumber"] as? String }
          .allSatisfy { $0["email"] as? String == curated["email"] as? String }
      })
    return [
      "email": customer["email"] as! String, "name": "\"\(customer["customerName"] as! String)\"",
      "phone": "\"\(customer["phone"] as! String)\"", "serial": customer["serialNumber"] as! String,
    ]
  }

  /// Keys of `files` (key → bytes) whose bytes contain `text`, ignoring ASCII case; a Parquet
  /// file's rows are searched as the NDJSON lines they render to (its bytes are compressed).
  static func mentioning(_ text: String, in files: [String: [UInt8]]) -> [String] {
    let needle = text.lowercased()
    return files.filter { String(decoding: searchable($0.key, $0.value), as: UTF8.self).lowercased().contains(needle) }
      .keys.sorted()
  }

  /// The bytes to search: a Parquet file's rows as NDJSON lines (one that cannot be decoded is a
  /// failed test, not a file that mentions nobody), any other file as it is.
  static func searchable(_ key: String, _ bytes: [UInt8]) -> [UInt8] {
    guard key.hasSuffix(".parquet") else { return bytes }
    do {
      return try ParquetTableFile(key: key, bytes: bytes).renderedLines()
    } catch {
      Issue.record("\(key): \(error)")
      return bytes
    }
  }

  static func folderFiles(_ lake: String) -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    let enumerator = FileManager.default.enumerator(atPath: lake)!
    while let relative = enumerator.nextObject() as? String {
      if enumerator.fileAttributes?[.type] as? FileAttributeType == .typeRegular {
        files[relative] = Array(FileManager.default.contents(atPath: "\(lake)/\(relative)") ?? Data())
      }
    }
    return files
  }

  @Test func erasureWhileTheServiceRunsKeepsTheCustomerOut() async throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = "\(scratch.path)/lake"
    #expect(
      try StediProcess.run(["lake", "sample", "--lake", lake, "--customers", "40", "--readings", "30"]).status == 0)
    let firstRun = try StediProcess.run(["pipeline", "run", "--lake", lake])
    #expect(firstRun.status == 0, "\(firstRun.stderr)")
    let customer = try Self.uniqueCustomer(lake)
    let email = customer["email"]!
    // Their phone's old readings, to deliver again after the erasure.
    let oldReadings = landingLines(lake, "accelerometer").filter { $0.contains("\"\(email)\"") }
    #expect(oldReadings.count >= 30)
    let otherReading = try #require(landingLines(lake, "accelerometer").first { !$0.contains("\"\(email)\"") })

    let environment = ["STEDI_TOKEN_KEY": String(repeating: "erase-test-key-", count: 3)]
    let service = try await ServeProcess.start(
      ["--lake", lake, "--wal", "\(scratch.path)/wal", "--erasure-refresh-seconds", "0.2"], environment: environment)
    func token(_ arguments: [String]) throws -> String {
      try StediProcess.run(["token", "issue", "--lake", lake] + arguments, environment: environment).stdout
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let userToken = try token(["--user", email])
    let adminToken = try token(["--admin"])
    #expect(await service.post("/v1/accelerometer/readings", token: userToken, body: oldReadings[0]) == 202)

    let erase = try StediProcess.run(["lake", "erase", "--lake", lake, "--email", email, "--json"])
    #expect(erase.status == 0, "\(erase.stderr)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(erase.stdout.utf8)) as? [String: Any])
    let removed = try #require(report["rowsRemoved"] as? [String: Int])
    #expect(removed["accelerometer_landing"]! >= oldReadings.count)
    #expect(removed["customer_landing"]! >= 1)
    #expect(removed["machine_learning_curated"]! > 0)
    #expect(removed["step_trainer_landing"]! > 0)
    #expect(report["uniqueSerials"] as? Int == 1)

    // The old batch delivered again: refused by the service, whoever sends it.
    let body = oldReadings.joined(separator: "\n")
    #expect(await service.post("/v1/accelerometer/readings", token: userToken, body: body) == 403)
    #expect(
      await service.post("/v1/accelerometer/readings", token: adminToken, body: body + "\n" + otherReading) == 202)
    let (status, stderr) = await service.stop()
    #expect(status == 0, "\(stderr)")
    #expect(landingLines(lake, "accelerometer").contains(otherReading))

    let rerun = try StediProcess.run(["pipeline", "run", "--lake", lake, "--json"])
    #expect(rerun.status == 0, "\(rerun.stderr)")
    let files = Self.folderFiles(lake)
    for (kind, text) in customer {
      #expect(Self.mentioning(text, in: files) == [], "the customer's \(kind) is still in the lake")
    }
    // The compliance audit agrees: nothing of an erased customer anywhere, and nothing else wrong.
    let audit = try StediProcess.run(["lake", "audit", "--lake", lake])
    #expect(audit.status == 0, "\(audit.stdout)\(audit.stderr)")
    // Once more: nothing left to remove, and the run says it finished an existing erasure.
    let again = try StediProcess.run(["lake", "erase", "--lake", lake, "--email", email.uppercased(), "--json"])
    #expect(again.status == 0, "\(again.stderr)")
    let againReport = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
    #expect(againReport?["resumed"] as? Bool == true, "\(again.stdout)")
    let log = String(decoding: Self.folderFiles(lake)["_stedi/erasure-log.ndjson"] ?? [], as: UTF8.self)
    #expect(log.split(separator: "\n").count == 2)
  }

  @Test func usageErrorsAreClear() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let neither = try StediProcess.run(["lake", "erase", "--lake", scratch.path])
    #expect(neither.status != 0)
    #expect(neither.stderr.contains("--email"))
    let missing = try StediProcess.run(["lake", "erase", "--lake", "\(scratch.path)/nope", "--email", "a@b.c"])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("no lake at"))
  }

  @Test(
    .enabled(
      if: SeaweedFSServer.testsEnabled,
      "SeaweedFS's weed is not installed: run `bash scripts/test.sh` or `bash scripts/install-seaweedfs.sh`"))
  func erasureOnAnS3Lake() async throws {
    let server = try await SeaweedFSServer.shared()
    let storage = try await server.freshLake()
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let local = "\(scratch.path)/local"
    #expect(
      try StediProcess.run(["lake", "sample", "--lake", local, "--customers", "40", "--readings", "30"]).status == 0)
    for (key, bytes) in Self.folderFiles(local) { try await storage.put(key, bytes: bytes) }
    let environment = [
      "AWS_ACCESS_KEY_ID": server.accessKey, "AWS_SECRET_ACCESS_KEY": server.secretKey, "AWS_REGION": server.region,
    ]
    let s3 = ["--lake", storage.location, "--endpoint", server.endpoint]
    let run = ["pipeline", "run"] + s3 + ["--work", "\(scratch.path)/work"]
    #expect(try StediProcess.run(run, environment: environment).status == 0)
    // The customer, chosen on a local run of the same data.
    #expect(try StediProcess.run(["pipeline", "run", "--lake", local]).status == 0)
    let customer = try Self.uniqueCustomer(local)

    let erase = try StediProcess.run(
      ["lake", "erase"] + s3 + ["--email", customer["email"]!], environment: environment)
    #expect(erase.status == 0, "\(erase.stderr)")
    #expect(erase.stdout.contains("machine_learning_curated"))
    let rerun = try StediProcess.run(run, environment: environment)
    #expect(rerun.status == 0, "\(rerun.stderr)")

    var objects: [String: [UInt8]] = [:]
    for object in try await storage.list(prefix: "") { objects[object.key] = try await storage.get(object.key) }
    #expect(objects["_stedi/erasures.json"] != nil)
    #expect(objects["_stedi/erasure-log.ndjson"] != nil)
    for (kind, text) in customer {
      #expect(Self.mentioning(text, in: objects) == [], "the customer's \(kind) is still in the S3 lake")
    }
    // The working copy was refreshed from the lake by the second run, so it holds nothing either.
    for (kind, text) in customer {
      #expect(
        Self.mentioning(text, in: Self.folderFiles("\(scratch.path)/work")) == [],
        "the customer's \(kind) is still in the working copy")
    }
  }
}
