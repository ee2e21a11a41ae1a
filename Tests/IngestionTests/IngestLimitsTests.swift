import Foundation
import Hummingbird
import HummingbirdTesting
import IngestAPI
import Lakehouse
import StediTestSupport
import Synchronization
import Testing

@testable import Ingestion

/// The memory budget shared by bodies in flight and buffered records, and `/healthz` following
/// landing failures, in process.
@Suite struct IngestLimitsTests {
  @Test func theBudgetReservesWithinItsLimitAndCeilingAndGivesBack() {
    let budget = MemoryBudget(limit: 1000)
    #expect(budget.reserve(600))
    #expect(!budget.reserve(500))
    #expect(!budget.reserve(200, ceiling: 750))
    #expect(budget.reserve(150, ceiling: 750))
    #expect(budget.reservedBytes == 750)
    budget.release(750)
    #expect(budget.reservedBytes == 0)
    budget.forceReserve(2000)
    #expect(!budget.reserve(1))
    budget.release(2000)
    #expect(budget.reserve(1000))
  }

  private func headers(_ token: AccessToken) -> HTTPFields {
    [.contentType: "application/json", .authorization: "Bearer \(token.signed(with: IngestFakes.key))"]
  }

  /// Bodies reserve their Content-Length before they are read: with the budget taken by what
  /// waits to land, a new body gets 503 with Retry-After without being read; a body larger
  /// than the per-request limit gets 413; and every reservation is given back after.
  @Test func bodiesInFlightCountAgainstTheBudget() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let metrics = IngestMetrics()
    let flaky = FlakyStorage(lake.storage)
    flaky.failing.store(true, ordering: .relaxed)
    let (ingestor, _) = try await Ingestor.open(
      storage: flaky, logDirectory: lake.logFolder,
      limits: BatchLimits(maxRecords: 10, maxAge: .seconds(600), maxBufferedBytes: 20_000), metrics: metrics)
    let service = IngestService(
      ingestor: ingestor, key: IngestFakes.key, metrics: metrics,
      configuration: IngestServiceConfiguration(maxBodyBytes: 8000))
    let app = Application(router: service.router())
    try await app.test(.live) { client in
      // 10 records seal a batch, which cannot land: its bytes stay reserved.
      var accepted = 0
      for part in 0..<40 {
        let response = try await client.execute(
          uri: "/v1/step-trainer/readings", method: .post, headers: headers(IngestFakes.token(.device, "S-1")),
          body: ByteBuffer(
            string: IngestFakes.stepTrainerBody(serial: "S-1", count: 10, start: 1_700_000_000_000 + Int64(part * 10))))
        if response.status == .accepted { accepted += 1 } else { break }
      }
      #expect(accepted > 0)
      let held = ingestor.memory.reservedBytes
      #expect(held > 20_000 - 2000 && held <= 20_000, "\(held)")
      let body = IngestFakes.stepTrainerBody(serial: "S-1", count: 30, start: 1_700_000_010_000)
      #expect(body.utf8.count < 8000 && body.utf8.count > 20_000 - held)
      let refused = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post, headers: headers(IngestFakes.token(.device, "S-1")),
        body: ByteBuffer(string: body))
      #expect(refused.status == .serviceUnavailable)
      #expect(refused.headers[.retryAfter] == "1")
      let tooLarge = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post, headers: headers(IngestFakes.token(.device, "S-1")),
        body: ByteBuffer(string: IngestFakes.stepTrainerBody(serial: "S-1", count: 100, start: 1_700_000_020_000)))
      #expect(tooLarge.status == .contentTooLarge)
      #expect(ingestor.memory.reservedBytes == held, "the refused bodies gave their reservations back")
      flaky.failing.store(false, ordering: .relaxed)
    }
    await ingestor.shutdown(grace: .seconds(20))
    #expect(ingestor.memory.reservedBytes == 0)
  }

  /// `/healthz` is 503 with a reason while batches cannot land, and 200 once they do.
  @Test func healthFollowsLandingFailuresAndRecovery() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let metrics = IngestMetrics()
    let flaky = FlakyStorage(lake.storage)
    let (ingestor, _) = try await Ingestor.open(
      storage: flaky, logDirectory: lake.logFolder, limits: BatchLimits(maxRecords: 5, maxAge: .seconds(600)),
      metrics: metrics)
    let service = IngestService(ingestor: ingestor, key: IngestFakes.key, metrics: metrics)
    let app = Application(router: service.router())
    try await app.test(.router) { client in
      func health() async throws -> (HTTPResponse.Status, [String: Any]) {
        let response = try await client.execute(uri: "/healthz", method: .get)
        let json = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
        return (response.status, json)
      }
      #expect(try await health().0 == .ok)
      flaky.failing.store(true, ordering: .relaxed)
      let response = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post, headers: headers(IngestFakes.token(.device, "S-1")),
        body: ByteBuffer(string: IngestFakes.stepTrainerBody(serial: "S-1", count: 5)))
      #expect(response.status == .accepted)
      await eventually("healthz turns unhealthy") { (try? await health().0) == .serviceUnavailable }
      let (status, json) = try await health()
      #expect(status == .serviceUnavailable)
      #expect(json["status"] as? String == "unhealthy")
      #expect(json["reason"] as? String == "landing_failing")
      #expect((json["error"] as? String)?.contains("switched off by the test") == true)
      #expect(json["batchesFailing"] as? Int == 1)
      flaky.failing.store(false, ordering: .relaxed)
      // The retry backs off from 100 ms; a few seconds at most.
      await eventually("healthz recovers", timeout: 30) { (try? await health().0) == .ok }
      #expect(lake.landingLines(.stepTrainer).count == 5)
    }
    await ingestor.shutdown(grace: .seconds(5))
  }
}
