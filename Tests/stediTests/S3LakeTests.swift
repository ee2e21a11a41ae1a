import DeltaLog
import Foundation
import LakeStorage
import Lakehouse
import StediTestSupport
import Testing

/// The CLI on an S3 lake, against a real SeaweedFS server that checks signatures: the ingest
/// service landing into S3, the zone pipeline reading and writing S3 the same as a folder, and a
/// wrong secret refused with a message that says so.
@Suite(
  .serialized,
  .enabled(
    if: SeaweedFSServer.testsEnabled,
    "SeaweedFS's weed is not installed: run `bash scripts/test.sh` or `bash scripts/install-seaweedfs.sh`"))
struct S3LakeTests {
  private func environment(_ server: SeaweedFSServer, secret: String? = nil) -> [String: String] {
    [
      "AWS_ACCESS_KEY_ID": server.accessKey, "AWS_SECRET_ACCESS_KEY": secret ?? server.secretKey,
      "AWS_REGION": server.region, "STEDI_TOKEN_KEY": String(repeating: "s3-test-key-", count: 4),
    ]
  }

  private func lakeURL(_ storage: S3Storage) -> String { storage.location }

  @Test func serveLandsReadingsInS3() async throws {
    let server = try await SeaweedFSServer.shared()
    let storage = try await server.freshLake()
    let work = try TemporaryFolder()
    defer { work.remove() }
    let env = environment(server)
    let token = try StediProcess.run(
      ["token", "issue", "--lake", lakeURL(storage), "--endpoint", server.endpoint, "--device", "S-3"], environment: env
    )
    #expect(token.status == 0, "\(token.stderr)")
    let service = try await ServeProcess.start(
      [
        "--lake", lakeURL(storage), "--endpoint", server.endpoint, "--wal", "\(work.path)/wal", "--batch-max-records",
        "30",
      ],
      environment: env)
    let body = (0..<50).map {
      #"{"sensorReadingTime":\#(1_700_000_000_000 + $0),"serialNumber":"S-3","distanceFromObject":\#(50 + $0)}"#
    }.joined(separator: "\n")
    #expect(
      await service.post(
        "/v1/step-trainer/readings", token: token.stdout.trimmingCharacters(in: .whitespacesAndNewlines), body: body)
        == 202)
    let (status, stderr) = await service.stop()
    #expect(status == 0, "\(stderr)")
    let objects = try await storage.list(prefix: "step_trainer/landing/")
    #expect(objects.count == 1)
    var lines: [Substring] = []
    for object in objects {
      #expect(object.key.wholeMatch(of: /step_trainer\/landing\/step_trainer-\d{13}-[0-9a-f]{16}-\d+\.json/) != nil)
      lines += String(decoding: try await storage.get(object.key), as: UTF8.self).split(separator: "\n")
    }
    #expect(lines.count == 50)
  }

  @Test func thePipelineRunsOnAnS3LakeAndPublishesWhatItWouldLocally() async throws {
    let server = try await SeaweedFSServer.shared()
    let storage = try await server.freshLake()
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let local = "\(scratch.path)/local"
    let generated = try StediProcess.run([
      "generate", "--lake", local, "--customers", "30", "--days", "1", "--seed", "5", "--session-seconds", "15",
    ])
    #expect(generated.status == 0, "\(generated.stderr)")
    // The same landing data in S3 as in the folder.
    let landing = FileManager.default.enumerator(atPath: local)!.compactMap { $0 as? String }
      .filter { $0.contains("/landing/") && $0.hasSuffix(".json") }
    for key in landing {
      try await storage.put(key, bytes: Array(FileManager.default.contents(atPath: "\(local)/\(key)")!))
    }
    let env = environment(server)
    let keyFile = "\(scratch.path)/pseudonym.key"
    try String(repeating: "ab", count: 32).write(toFile: keyFile, atomically: true, encoding: .utf8)
    let localRun = try StediProcess.run(["pipeline", "run", "--lake", local, "--key-file", keyFile, "--json"])
    #expect(localRun.status == 0, "\(localRun.stderr)")
    let s3Arguments = [
      "pipeline", "run", "--lake", lakeURL(storage), "--endpoint", server.endpoint, "--work", "\(scratch.path)/work",
      "--key-file", keyFile, "--json",
    ]
    let s3Run = try StediProcess.run(s3Arguments, environment: env)
    #expect(s3Run.status == 0, "\(s3Run.stderr)")

    // Every table and quarantine file the local run published is in S3 with the same bytes.
    let published = TemporaryLake.publishedTables(local)
    #expect(!published.isEmpty)
    for (key, bytes) in published where !key.split(separator: "/").last!.hasPrefix(".") {
      let remote = try await storage.get(key)
      #expect(Data(remote) == bytes, "\(key) differs between the folder lake and the S3 lake")
    }
    // The funnel is the same, apart from timing.
    func tables(_ output: String) -> [String: Int]? {
      let funnel = (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any]
      return funnel?["tables"] as? [String: Int]
    }
    #expect(tables(s3Run.stdout) != nil && tables(s3Run.stdout) == tables(localRun.stdout))
    // Each Parquet table's Delta log went up too, and names exactly the table's data files in S3.
    let objects = try await storage.list(prefix: "").map(\.key)
    for folder in ["customer/trusted", "customer/curated", "accelerometer/trusted", "step_trainer/trusted"]
      + ["step_trainer/curated"]
    {
      let snapshot = try #require(try await DeltaTable(storage: storage, root: folder).snapshot(), "\(folder)")
      let dataKeys = objects.filter { $0.hasPrefix(folder + "/") && $0.hasSuffix(".parquet") }
      #expect(Set(dataKeys) == Set(snapshot.files.keys.map { "\(folder)/\($0)" }), "\(folder)")
      #expect(!dataKeys.isEmpty, "\(folder)")
    }
    // The quality gate reads the S3 lake's Parquet tables back.
    let check = try StediProcess.run(
      [
        "pipeline", "check", "--lake", lakeURL(storage), "--endpoint", server.endpoint, "--work",
        "\(scratch.path)/check",
      ],
      environment: env.merging(["STEDI_PSEUDONYM_KEY_FILE": keyFile]) { $1 })
    #expect(check.status == 0, "\(check.stdout) \(check.stderr)")

    // A second run over the same working copy downloads no landing file again and changes nothing.
    let before = try await storage.list(prefix: "")
    let again = try StediProcess.run(s3Arguments, environment: env.merging(["STEDI_PROGRESS": "lines"]) { $1 })
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stderr.contains("\(landing.count) landing files cached"), "\(again.stderr)")
    #expect(try await storage.list(prefix: "") == before)
  }

  @Test func aWrongSecretIsRefusedAndSaysSo() async throws {
    let server = try await SeaweedFSServer.shared()
    let storage = try await server.freshLake()
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let run = try StediProcess.run(
      [
        "pipeline", "run", "--lake", lakeURL(storage), "--endpoint", server.endpoint, "--work", "\(scratch.path)/work",
      ],
      environment: environment(server, secret: "not-the-secret"))
    #expect(run.status == 2)
    #expect(run.stderr.contains("SignatureDoesNotMatch"), "\(run.stderr)")
    #expect(run.stderr.contains("secret access key"), "\(run.stderr)")

    // Credentials from flags instead of the environment: the right secret works, a wrong one
    // is refused the same way.
    for (secret, expected) in [(server.secretKey, Int32(0)), ("not-the-secret", Int32(2))] {
      let secretFile = "\(scratch.path)/secret"
      try secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
      let flagged = try StediProcess.run(
        [
          "token", "issue", "--lake", lakeURL(storage), "--endpoint", server.endpoint, "--access-key-id",
          server.accessKey, "--secret-access-key-file", secretFile, "--admin",
        ],
        environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "STEDI_TOKEN_KEY": ""])
      #expect(flagged.status == expected, "\(flagged.stderr)")
      if expected == 0 { #expect(flagged.stdout.hasPrefix("stedi1.")) }
    }
    // The token key was created in the S3 lake's metadata on first use.
    #expect(try await storage.get("_stedi/token.key").count == 65)
  }
}
