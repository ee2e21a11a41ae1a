import Foundation
import Hummingbird
import HummingbirdTesting
import IngestAPI
import LakeStorage
import Lakehouse
import StediTestSupport
import Synchronization
import Testing

@testable import Ingestion

@Suite struct IngestServiceTests {
  /// Runs `body` against the service over a fresh lake (in process, or a live server on a real
  /// socket, as Hummingbird's own tests do), shuts the ingestor down, then calls `landed`.
  private func withService(
    live: Bool = false, limits: BatchLimits = BatchLimits(maxAge: .seconds(600)),
    configuration: IngestServiceConfiguration = .init(), storage: ((FileSystemStorage) -> any LakeStorage)? = nil,
    landed: (TemporaryLake) -> Void = { _ in },
    _ body: @Sendable (any TestClientProtocol, TemporaryLake, IngestMetrics) async throws -> Void
  ) async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let metrics = IngestMetrics()
    let (ingestor, _) = try await Ingestor.open(
      storage: storage?(lake.storage) ?? lake.storage, logDirectory: lake.logFolder, limits: limits, metrics: metrics)
    let service = IngestService(
      ingestor: ingestor, key: IngestFakes.key, metrics: metrics, configuration: configuration)
    let app = Application(router: service.router())
    try await app.test(live ? .live : .router) { client in try await body(client, lake, metrics) }
    // Short: one test keeps its storage unreachable, and what does not land stays in the log.
    await ingestor.shutdown(grace: .seconds(2))
    landed(lake)
  }

  private func headers(_ token: AccessToken?) -> HTTPFields {
    var fields: HTTPFields = [.contentType: "application/json"]
    if let token { fields[.authorization] = "Bearer \(token.signed(with: IngestFakes.key))" }
    return fields
  }

  private func json(_ buffer: ByteBuffer) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
  }

  @Test(arguments: [false, true])
  func acceptedReadingsGet202WithTheirCountAndLand(live: Bool) async throws {
    try await withService(
      live: live,
      landed: { lake in
        #expect(
          lake.landingLines(.stepTrainer)
            == IngestFakes.stepTrainerBody(serial: "S-1", count: 25).split(separator: "\n").map(String.init))
      }
    ) { client, lake, _ in
      let response = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post, headers: headers(IngestFakes.token(.device, "S-1")),
        body: ByteBuffer(string: IngestFakes.stepTrainerBody(serial: "S-1", count: 25)))
      #expect(response.status == .accepted)
      #expect(try json(response.body)["accepted"] as? Int == 25)
    }
  }

  @Test func badInputGets400NamingLineAndFieldAndNothingOfTheRequestLands() async throws {
    let lake = try await captureLake { client, lake, metrics in
      var lines = IngestFakes.stepTrainerBody(serial: "S-1", count: 3).split(separator: "\n").map(String.init)
      lines[2] = #"{"sensorReadingTime":1,"serialNumber":"S-1","distanceFromObject":"far"}"#
      let response = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post, headers: headers(IngestFakes.token(.device, "S-1")),
        body: ByteBuffer(string: lines.joined(separator: "\n")))
      #expect(response.status == .badRequest)
      let error = try json(response.body)
      #expect(error["line"] as? Int == 3)
      #expect(error["field"] as? String == "distanceFromObject")
      #expect((error["error"] as? String)?.contains("must be a number") == true)
      #expect(metrics.render().contains(#"stedi_ingest_requests_rejected_total{reason="wrong_type",status="400"} 1"#))
    }
    #expect(lake.isEmpty)
  }

  @Test func aBlankEmailAndA1970TimestampGet400NamingTheFieldAndNothingLands() async throws {
    try await withService(
      landed: { lake in
        #expect(lake.landingLines(.customer).isEmpty)
        #expect(lake.landingLines(.accelerometer).isEmpty)
      }
    ) { client, _, _ in
      let customer =
        #"{"email": "   ", "serialNumber": "S-1", "registrationDate": 1700000000000, "lastUpdateDate": 1700000000000}"#
      let blank = try await client.execute(
        uri: "/v1/customers", method: .post, headers: headers(IngestFakes.token(.admin, "admin")),
        body: ByteBuffer(string: customer))
      #expect(blank.status == .badRequest)
      let blankError = try json(blank.body)
      #expect(blankError["field"] as? String == "email")
      #expect(blankError["reason"] as? String == "invalid_value")
      #expect((blankError["error"] as? String)?.contains("'email'") == true)

      let reading = #"{"user": "a@example.com", "timestamp": 0, "x": 1, "y": 2, "z": 3}"#
      let old = try await client.execute(
        uri: "/v1/accelerometer/readings", method: .post, headers: headers(IngestFakes.token(.user, "a@example.com")),
        body: ByteBuffer(string: reading))
      #expect(old.status == .badRequest)
      let oldError = try json(old.body)
      #expect(oldError["field"] as? String == "timestamp")
      #expect(oldError["reason"] as? String == "out_of_range")
      #expect((oldError["error"] as? String)?.contains("1970-01-01T00:00:00.000Z") == true)
    }
  }

  /// Runs `body`, then returns the lake's step-trainer landing lines after shutdown.
  private func captureLake(
    _ body: @Sendable @escaping (any TestClientProtocol, TemporaryLake, IngestMetrics) async throws -> Void
  ) async throws -> [String] {
    let result = Mutex<[String]>([])
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let metrics = IngestMetrics()
    let (ingestor, _) = try await Ingestor.open(storage: lake.storage, logDirectory: lake.logFolder, metrics: metrics)
    let app = Application(router: IngestService(ingestor: ingestor, key: IngestFakes.key, metrics: metrics).router())
    try await app.test(.router) { client in try await body(client, lake, metrics) }
    await ingestor.shutdown()
    result.withLock { $0 = lake.landingLines(.stepTrainer) }
    return result.withLock { $0 }
  }

  @Test(arguments: [false, true])
  func missingOrInvalidTokensGet401AndSomeoneElsesDataGets403(live: Bool) async throws {
    try await withService(live: live) { client, _, metrics in
      let body = ByteBuffer(string: IngestFakes.stepTrainerBody(serial: "S-1", count: 2))
      let missing = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post, headers: headers(nil), body: body)
      #expect(missing.status == .unauthorized)
      #expect(missing.headers[.wwwAuthenticate] == "Bearer")

      var forged = headers(nil)
      let otherKey = try TokenKey(bytes: Array(repeating: 1, count: 32))
      forged[.authorization] = "Bearer \(IngestFakes.token(.device, "S-1").signed(with: otherKey))"
      let badSignature = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post, headers: forged, body: body)
      #expect(badSignature.status == .unauthorized)
      #expect(try json(badSignature.body)["reason"] as? String == "bad_signature")

      let expired = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post,
        headers: headers(IngestFakes.token(.device, "S-1", expiresIn: -5)),
        body: body)
      #expect(expired.status == .unauthorized)

      let otherSerial = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post, headers: headers(IngestFakes.token(.device, "S-2")), body: body
      )
      #expect(otherSerial.status == .forbidden)
      #expect(try json(otherSerial.body)["line"] as? Int == 1)

      let customer =
        #"{"customerName":"A","email":"a@example.com","phone":"1","birthDay":"1990-01-01","serialNumber":"S-1","registrationDate":1700000000001,"lastUpdateDate":1700000000002,"shareWithResearchAsOfDate":1700000000003}"#
      let notAdmin = try await client.execute(
        uri: "/v1/customers", method: .post, headers: headers(IngestFakes.token(.user, "a@example.com")),
        body: ByteBuffer(string: customer))
      #expect(notAdmin.status == .forbidden)
      let admin = try await client.execute(
        uri: "/v1/customers", method: .post, headers: headers(IngestFakes.token(.admin, "admin")),
        body: ByteBuffer(string: customer))
      #expect(admin.status == .accepted)

      let text = metrics.render()
      #expect(text.contains(#"reason="missing_token",status="401"} 1"#))
      #expect(text.contains(#"reason="bad_signature",status="401"} 1"#))
      #expect(text.contains(#"reason="expired_token",status="401"} 1"#))
      #expect(text.contains(#"reason="wrong_serial",status="403"} 1"#))
      #expect(text.contains(#"reason="wrong_role",status="403"} 1"#))
    }
  }

  @Test func oversizedBodiesGet413() async throws {
    try await withService(configuration: IngestServiceConfiguration(maxBodyBytes: 4096)) { client, _, _ in
      let response = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post, headers: headers(IngestFakes.token(.device, "S-1")),
        body: ByteBuffer(string: IngestFakes.stepTrainerBody(serial: "S-1", count: 200)))
      #expect(response.status == .contentTooLarge)
      #expect(try json(response.body)["reason"] as? String == "too_large")
    }
  }

  @Test func fullBuffersGet503WithRetryAfter() async throws {
    try await withService(
      limits: BatchLimits(maxAge: .seconds(600), maxBufferedBytes: 10_000),
      storage: { inner in
        let flaky = FlakyStorage(inner)
        flaky.failing.store(true, ordering: .relaxed)
        return flaky
      }
    ) { client, _, _ in
      var statuses: [HTTPResponse.Status] = []
      var retryAfter: String?
      for part in 0..<20 {
        let response = try await client.execute(
          uri: "/v1/step-trainer/readings", method: .post, headers: headers(IngestFakes.token(.device, "S-1")),
          body: ByteBuffer(
            string: IngestFakes.stepTrainerBody(serial: "S-1", count: 20, start: 1_700_000_000_000 + Int64(part * 20))))
        statuses.append(response.status)
        if response.status == .serviceUnavailable { retryAfter = response.headers[.retryAfter] }
      }
      #expect(statuses.contains(.accepted))
      #expect(statuses.contains(.serviceUnavailable))
      #expect(retryAfter == "1")
    }
  }

  @Test func healthAndMetrics() async throws {
    try await withService { client, _, _ in
      _ = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post, headers: headers(IngestFakes.token(.device, "S-1")),
        body: ByteBuffer(string: IngestFakes.stepTrainerBody(serial: "S-1", count: 7)))
      let health = try await client.execute(uri: "/healthz", method: .get)
      #expect(health.status == .ok)
      #expect(try json(health.body)["status"] as? String == "ok")
      let metrics = try await client.execute(uri: "/metrics", method: .get)
      let text = String(buffer: metrics.body)
      #expect(text.contains(#"stedi_ingest_records_received_total{source="step_trainer"} 7"#))
      #expect(text.contains(#"stedi_ingest_records_acknowledged_total{source="step_trainer"} 7"#))
      #expect(text.contains("stedi_ingest_ack_duration_seconds"))
    }
  }

  @Test func thePhonePageIsServedAndNothingOutsideItsFolder() async throws {
    let phoneFolder = try TemporaryFolder(prefix: "phone")
    defer { phoneFolder.remove() }
    let folder = phoneFolder.path
    try "<html>phone</html>".write(toFile: "\(folder)/index.html", atomically: true, encoding: .utf8)
    try await withService(configuration: IngestServiceConfiguration(phonePageFolder: folder)) { client, _, _ in
      let page = try await client.execute(uri: "/phone", method: .get)
      #expect(page.status == .ok)
      #expect(String(buffer: page.body) == "<html>phone</html>")
      #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
      let traversal = try await client.execute(uri: "/phone/..%2F..%2Fetc%2Fpasswd", method: .get)
      #expect(traversal.status == .notFound)
    }
  }
}
