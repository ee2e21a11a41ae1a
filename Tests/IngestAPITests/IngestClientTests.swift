import AsyncHTTPClient
import Hummingbird
import HummingbirdTesting
import IngestAPI
import Ingestion
import Lakehouse
import StediTestSupport
import Testing

/// The client against the real service, in process on a loopback port.
@Suite struct IngestClientTests {
  private func withService(_ body: @Sendable (IngestClient) async throws -> Void) async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let metrics = IngestMetrics()
    let (ingestor, _) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder, limits: BatchLimits(maxAge: .seconds(600)),
      metrics: metrics)
    let service = IngestService(ingestor: ingestor, key: IngestFakes.key, metrics: metrics)
    let app = Application(router: service.router())
    try await app.test(.live) { client in
      let port = try #require(client.port)
      try await body(IngestClient(baseURL: "http://127.0.0.1:\(port)"))
    }
    await ingestor.shutdown(grace: .seconds(2))
  }

  @Test func anAcceptedBatchIsAcknowledgedWithItsCount() async throws {
    try await withService { client in
      let answer = try await client.post(
        .stepTrainer, token: IngestFakes.token(.device, "S-1").signed(with: IngestFakes.key),
        ndjson: Array(IngestFakes.stepTrainerBody(serial: "S-1", count: 5).utf8))
      #expect(answer.status == 202 && answer.isAccepted)
      #expect(answer.acknowledgement() == IngestAcknowledgement(accepted: 5))
      #expect(answer.text == #"{"accepted":5}"#)
      #expect(answer.refused == 0 && answer.rejection == nil && answer.retryAfterSeconds == nil)

      let customer =
        #"{"customerName":"A","email":"a@example.com","phone":"1","birthDay":"1990-01-01","serialNumber":"S-1","registrationDate":1700000000001,"lastUpdateDate":1700000000002,"shareWithResearchAsOfDate":1700000000003}"#
      let admin = AccessToken.mint(.admin, "admin", validFor: 60, key: IngestFakes.key)
      let customers = try await client.post(.customer, token: admin, ndjson: Array(customer.utf8))
      #expect(customers.acknowledgement() == IngestAcknowledgement(accepted: 1))
    }
  }

  @Test func refusalsComeBackAsRejections() async throws {
    try await withService { client in
      let body = Array(IngestFakes.stepTrainerBody(serial: "S-1", count: 2).utf8)
      let otherSerial = try await client.post(
        .stepTrainer, token: IngestFakes.token(.device, "S-2").signed(with: IngestFakes.key), ndjson: body)
      let wrongSerial = try #require(otherSerial.rejection)
      #expect(wrongSerial.status == 403 && wrongSerial.reason == "wrong_serial" && wrongSerial.line == 1)

      let otherKey = try TokenKey(bytes: Array(repeating: 1, count: 32))
      let forged = try await client.post(
        .stepTrainer, token: IngestFakes.token(.device, "S-1").signed(with: otherKey), ndjson: body)
      #expect(forged.rejection?.status == 401 && forged.rejection?.reason == "bad_signature")
      #expect(forged.rejection?.message == TokenError.badSignature.description)

      let notFound = try await client.post(path: "/v1/nothing-here", token: "x", ndjson: body)
      #expect(notFound.status == 404 && notFound.acknowledgement() == nil)
    }
  }

  @Test func healthIsReadAsItsType() async throws {
    try await withService { client in
      let (status, health) = try await client.health()
      #expect(status == 200)
      #expect(health?.isHealthy == true && health?.reason == nil)
      #expect(health?.bufferedBytes == 0 && health?.batchesFailing == 0)
    }
  }

  @Test func aRequestThatRunsOutOfTimeIsATimeout() async throws {
    // Nothing listens on port 9 of loopback normally: a refused connection is not a timeout.
    let client = IngestClient(baseURL: "http://127.0.0.1:9")
    do {
      _ = try await client.post(.stepTrainer, token: "x", ndjson: [], timeout: .seconds(5))
      Issue.record("a request to a closed port got an answer")
    } catch {
      #expect(!IngestClient.isTimeout(error))
    }
    #expect(IngestClient.isTimeout(HTTPClientError.deadlineExceeded))
    #expect(IngestClient.isTimeout(HTTPClientError.readTimeout))
  }
}
