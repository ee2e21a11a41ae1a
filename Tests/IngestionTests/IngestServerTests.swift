import Foundation
import IngestAPI
import LakeStorage
import Lakehouse
import Logging
import StediTestSupport
import Synchronization
import Testing

@testable import Ingestion

/// `IngestServer`, what `stedi serve` runs, in process: both listeners announce themselves, a
/// posted reading is acknowledged, health answers on its own port, and cancelling the run
/// lands every acknowledged record.
@Suite struct IngestServerTests {
  @Test func servesAnnouncesBothPortsAndLandsEverythingWhenCancelled() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let settings = IngestServerSettings(
      port: 0, healthPort: 0, logFolder: lake.logFolder, limits: BatchLimits(maxAge: .seconds(600)))
    // Cancelling a run makes Hummingbird log its listeners' closing as errors: not this test's subject.
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let server = try await IngestServer.open(storage: lake.storage, settings: settings, logger: logger)
    let key = try await TokenKey.load(storage: lake.storage)
    let announced = Mutex<[String: Int]>([:])
    let running = Task {
      try await server.run { line in
        let parts = line.split(separator: " ")
        let port = Int(line.split(separator: ":").last ?? "") ?? 0
        announced.withLock { $0[String(parts[0])] = port }
      }
    }
    var ports: [String: Int] = [:]
    for _ in 0..<600 where ports.count < 2 {
      try await Task.sleep(for: .milliseconds(50))
      ports = announced.withLock { $0 }
    }
    let ingestPort = try #require(ports["listening"])
    let healthPort = try #require(ports["health"])
    #expect(ingestPort != healthPort && ingestPort > 0 && healthPort > 0)

    let token = IngestFakes.token(.device, "S-9").signed(with: key)
    let accepted = try await IngestClient(baseURL: "http://127.0.0.1:\(ingestPort)").post(
      .stepTrainer, token: token, ndjson: Array(IngestFakes.stepTrainerBody(serial: "S-9", count: 40).utf8),
      timeout: .seconds(30))
    #expect(accepted.isAccepted)
    #expect(accepted.acknowledgement()?.accepted == 40)
    let health = try await IngestClient(baseURL: "http://127.0.0.1:\(healthPort)").health(timeout: .seconds(30))
    #expect(health.status == 200)
    #expect(health.health?.isHealthy == true)
    // Nothing has landed yet (the batch may wait ten minutes); stopping the server lands it.
    #expect(lake.landingLines(.stepTrainer).isEmpty)
    running.cancel()
    try await running.value
    #expect(lake.landingLines(.stepTrainer).count == 40)
  }
}
