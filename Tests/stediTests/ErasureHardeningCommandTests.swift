import Foundation
import StediTestSupport
import Testing

/// `stedi lake erase` and `stedi token revoke` against a real `stedi serve` (issue 15): the
/// service's log keeps nothing of an erased customer, whichever spelling was erased, a log left
/// by a killed service is landed and emptied, unknown emails are said, revoked tokens refused.
@Suite(.serialized) struct ErasureHardeningCommandTests {
  static let environment = ["STEDI_TOKEN_KEY": String(repeating: "hardening-test-key-", count: 2)]
  static let t: Int64 = 1_700_000_000_000

  static func customer(_ email: String, serial: String, phone: String = "555-0199") -> String {
    #"{"customerName":"Zoë Test","email":"\#(email)","phone":"\#(phone)","birthDay":"1990-01-01","serialNumber":"\#(serial)","registrationDate":\#(t),"lastUpdateDate":\#(t + 1),"shareWithResearchAsOfDate":\#(t),"shareWithPublicAsOfDate":null,"shareWithFriendsAsOfDate":null}"#
  }

  static func readings(_ user: String, from start: Int64, count: Int) -> String {
    (0..<count).map { #"{"user":"\#(user)","timestamp":\#(start + Int64($0)),"x":0.5,"y":0.25,"z":9.5}"# }
      .joined(separator: "\n")
  }

  static func steps(_ serial: String, from start: Int64, count: Int) -> String {
    (0..<count).map {
      #"{"sensorReadingTime":\#(start + Int64($0)),"serialNumber":"\#(serial)","distanceFromObject":220}"#
    }.joined(separator: "\n")
  }

  /// Files under `folder` (relative names) whose text holds any spelling of `identities`.
  static func mentioning(_ identities: [String], under folder: String) -> [String] {
    let canonical = Set(identities.map { $0.lowercased().precomposedStringWithCanonicalMapping })
    var found: [String] = []
    guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
    while let relative = enumerator.nextObject() as? String {
      guard enumerator.fileAttributes?[.type] as? FileAttributeType == .typeRegular,
        let data = FileManager.default.contents(atPath: "\(folder)/\(relative)")
      else { continue }
      let text = String(decoding: data, as: UTF8.self).lowercased().precomposedStringWithCanonicalMapping
      if canonical.contains(where: { text.contains($0) }) { found.append(relative) }
    }
    return found.sorted()
  }

  static func token(_ lake: String, _ arguments: [String]) throws -> String {
    try StediProcess.run(["token", "issue", "--lake", lake] + arguments, environment: environment).stdout
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// A lake folder with the other customer's record, and a running service with a long batch age
  /// (records stay in its log), holding an NFD-spelled customer's record and readings.
  static func serviceHoldingTheCustomer(_ scratch: TemporaryFolder) async throws -> (String, ServeProcess) {
    let lake = "\(scratch.path)/lake"
    try FileManager.default.createDirectory(atPath: "\(lake)/customer/landing", withIntermediateDirectories: true)
    try Data((customer("other@x.com", serial: "other-serial", phone: "555-0100") + "\n").utf8).write(
      to: URL(fileURLWithPath: "\(lake)/customer/landing/other.json"))
    let service = try await ServeProcess.start(
      ["--lake", lake, "--batch-max-age", "3600", "--erasure-refresh-seconds", "0.2"], environment: environment)
    let admin = try token(lake, ["--admin"])
    let nfd = "Zoe\u{308}.Kung@X.com"
    #expect(await service.post("/v1/customers", token: admin, body: customer(nfd, serial: "ZK-SERIAL-1")) == 202)
    let user = try token(lake, ["--user", "zoë.kung@x.com"])
    #expect(
      await service.post("/v1/accelerometer/readings", token: user, body: readings(nfd, from: t, count: 20)) == 202)
    let device = try token(lake, ["--device", "zk-serial-1"])
    #expect(
      await service.post("/v1/step-trainer/readings", token: device, body: steps("ZK-SERIAL-1", from: t, count: 20))
        == 202)
    let other = try token(lake, ["--user", "other@x.com"])
    #expect(
      await service.post("/v1/accelerometer/readings", token: other, body: readings("other@x.com", from: t, count: 5))
        == 202)
    #expect(!mentioning(["zoë.kung@x.com"], under: "\(lake)/_stedi/ingest-wal").isEmpty)
    return (lake, service)
  }

  @Test func erasingAnotherSpellingWhileTheServiceHoldsTheRecordsEmptiesItsLog() async throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let (lake, service) = try await Self.serviceHoldingTheCustomer(scratch)
    let erase = try StediProcess.run(["lake", "erase", "--lake", lake, "--email", " ZOË.KUNG@x.com", "--json"])
    #expect(erase.status == 0, "\(erase.stderr)")
    // Found through the service's log: the customer record, and so the device's serial number.
    let report = try #require(try JSONSerialization.jsonObject(with: Data(erase.stdout.utf8)) as? [String: Any])
    #expect(report["uniqueSerials"] as? Int == 1, "\(erase.stdout)")
    #expect((report["ingestLog"] as? String)?.contains("in use by a running service") == true, "\(erase.stdout)")

    // The service takes them out of its log within its refresh interval (generous for a busy machine).
    let deadline = ContinuousClock.now + .seconds(60)
    while !Self.mentioning(["zoë.kung@x.com", "zk-serial-1"], under: "\(lake)/_stedi/ingest-wal").isEmpty,
      ContinuousClock.now < deadline
    {
      try await Task.sleep(for: .milliseconds(100))
    }
    #expect(Self.mentioning(["zoë.kung@x.com", "zk-serial-1"], under: "\(lake)/_stedi/ingest-wal").isEmpty)
    let (status, stderr) = await service.stop()
    #expect(status == 0, "\(stderr)")
    #expect(Self.mentioning(["zoë.kung@x.com", "zk-serial-1", "555-0199"], under: lake).isEmpty)
    #expect(landingLines(lake, "accelerometer").filter { $0.contains("other@x.com") }.count == 5)
    let audit = try StediProcess.run(["lake", "audit", "--lake", lake])
    #expect(!audit.stdout.contains("erased_customer"), "\(audit.stdout)")
  }

  @Test func aLogLeftByAKilledServiceIsLandedWithoutTheCustomerAndEmptied() async throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let (lake, service) = try await Self.serviceHoldingTheCustomer(scratch)
    await service.kill9()
    let erase = try StediProcess.run(["lake", "erase", "--lake", lake, "--email", "zoe\u{308}.kung@x.com"])
    #expect(erase.status == 0, "\(erase.stderr)")
    #expect(erase.stdout.contains("landed what it held"), "\(erase.stdout)")
    #expect(Self.mentioning(["zoë.kung@x.com", "zk-serial-1", "555-0199"], under: lake).isEmpty)
    // Everything else the killed service had acknowledged is in landing.
    #expect(landingLines(lake, "accelerometer").filter { $0.contains("other@x.com") }.count == 5)
  }

  @Test func anEmailFoundNowhereIsSaidAndExitsZero() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = "\(scratch.path)/lake"
    try FileManager.default.createDirectory(atPath: "\(lake)/customer/landing", withIntermediateDirectories: true)
    let erase = try StediProcess.run(["lake", "erase", "--lake", lake, "--email", "nobody@x.com"])
    #expect(erase.status == 0, "\(erase.stderr)")
    #expect(erase.stdout.contains("no record of this customer was found"))
    let json = try StediProcess.run(["lake", "erase", "--lake", lake, "--email", "nobody2@x.com", "--json"])
    let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect(report["foundNothing"] as? Bool == true, "\(json.stdout)")
  }

  @Test func revokedTokensAreRefusedByARunningService() async throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = "\(scratch.path)/lake"
    try FileManager.default.createDirectory(atPath: "\(lake)/customer/landing", withIntermediateDirectories: true)
    let service = try await ServeProcess.start(
      ["--lake", lake, "--erasure-refresh-seconds", "0.2"], environment: Self.environment)
    let first = try Self.token(lake, ["--device", "SER-9"])
    // Another token of the same device (another expiry, so another string).
    let second = try Self.token(lake, ["--device", "SER-9", "--expires-in", "2"])
    let body = Self.steps("SER-9", from: Self.t, count: 3)
    #expect(await service.post("/v1/step-trainer/readings", token: first, body: body) == 202)
    let revoke = try StediProcess.run(["token", "revoke", "--lake", lake, first], environment: Self.environment)
    #expect(revoke.status == 0, "\(revoke.stderr)")
    var status = await service.post("/v1/step-trainer/readings", token: first, body: body)
    let deadline = ContinuousClock.now + .seconds(30)
    while status != 401, ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(100))
      status = await service.post("/v1/step-trainer/readings", token: first, body: body)
    }
    #expect(status == 401)
    // Tokens have one spelling: padding the revoked one does not get it back in.
    #expect(await service.post("/v1/step-trainer/readings", token: first + "=", body: body) == 401)
    #expect(await service.post("/v1/step-trainer/readings", token: second, body: body) == 202)
    let all = try StediProcess.run(
      ["token", "revoke", "--lake", lake, "--device", "ser-9 "], environment: Self.environment)
    #expect(all.status == 0, "\(all.stderr)")
    var secondStatus = await service.post("/v1/step-trainer/readings", token: second, body: body)
    while secondStatus != 401, ContinuousClock.now < deadline + .seconds(30) {
      try await Task.sleep(for: .milliseconds(100))
      secondStatus = await service.post("/v1/step-trainer/readings", token: second, body: body)
    }
    #expect(secondStatus == 401)
    let stored = String(
      decoding: FileManager.default.contents(atPath: "\(lake)/_stedi/revoked-tokens.json")!, as: UTF8.self)
    #expect(!stored.lowercased().contains("ser-9") && !stored.contains(first))
    _ = await service.stop()
  }
}
