import Foundation
import Hummingbird
import HummingbirdTesting
import IngestAPI
import LakeStorage
import Lakehouse
import StediTestSupport
import Testing

@testable import Ingestion

/// Tokens name one canonical identity when records are checked, and can be revoked (issue 15,
/// items 7–8); their spelling is in IngestAPITests (TokenFormatTests).
@Suite struct TokenHardeningTests {
  func signed(_ subject: String = "S-1", role: AccessToken.Role = .device) -> String {
    AccessToken(role: role, subject: subject, expiresAt: Int64(Date().timeIntervalSince1970) + 3600).signed(
      with: IngestFakes.key)
  }

  @Test func aUserTokenLandsEverySpellingOfItsEmailAndNoOtherEmail() throws {
    let token = AccessToken(role: .user, subject: "josé@x.com", expiresAt: 4_000_000_000)
    let body = #"{"user":"JOSE\u0301@x.com","timestamp":1700000000000,"x":1,"y":2,"z":3}"#
    let batch = try Array(body.utf8).withUnsafeBytes { try IngestBody.parse($0, source: .accelerometer, token: token) }
    #expect(batch.count == 1)
    let other = #"{"user":"jose@x.com","timestamp":1700000000000,"x":1,"y":2,"z":3}"#
    #expect(throws: IngestRejection.self) {
      try Array(other.utf8).withUnsafeBytes { try IngestBody.parse($0, source: .accelerometer, token: token) }
    }
  }

  // MARK: revocation

  private func post(_ client: some TestClientProtocol, _ token: String) async throws -> HTTPResponse.Status {
    try await client.execute(
      uri: "/v1/step-trainer/readings", method: .post,
      headers: [.contentType: "application/json", .authorization: "Bearer \(token)"],
      body: ByteBuffer(string: IngestFakes.stepTrainerBody(serial: "S-1", count: 2))
    ).status
  }

  @Test func revokedTokensAndSubjectsAreRefusedOnceTheServiceReloadsTheList() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let (ingestor, _) = try await Ingestor.open(storage: lake.storage, logDirectory: lake.logFolder)
    let revocations = TokenRevocations()
    let service = IngestService(
      ingestor: ingestor, key: IngestFakes.key, metrics: IngestMetrics(), revocations: revocations)
    let now = Int64(Date().timeIntervalSince1970)
    let first = signed()
    let second = AccessToken(role: .device, subject: "s-1", expiresAt: now + 3600, issuedAt: now - 5).signed(
      with: IngestFakes.key)
    let otherDevice = signed("S-2")
    try await Application(router: service.router()).test(.router) { client in
      #expect(try await post(client, first) == .accepted)

      var list = RevocationList()
      list.revoke(token: first, claims: try AccessToken.verify(first, with: IngestFakes.key))
      try await list.save(storage: lake.storage)
      // Not before the reload (the service reloads it every --erasure-refresh-seconds).
      #expect(try await post(client, first) == .accepted)
      try await revocations.refresh(storage: lake.storage)
      let refused = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post,
        headers: [.contentType: "application/json", .authorization: "Bearer \(first)"],
        body: ByteBuffer(string: IngestFakes.stepTrainerBody(serial: "S-1", count: 2)))
      #expect(refused.status == .unauthorized)
      #expect(String(buffer: refused.body).contains("revoked_token"))
      #expect(try await post(client, second) == .accepted)

      // Every token of the device issued up to now, in any spelling of its serial.
      list.revoke(role: .device, subject: " S-1 ", at: now - 1, key: IngestFakes.key)
      try await list.save(storage: lake.storage)
      try await revocations.refresh(storage: lake.storage)
      #expect(try await post(client, second) == .unauthorized)
      let replacement = AccessToken(role: .device, subject: "S-1", expiresAt: now + 3600, issuedAt: now).signed(
        with: IngestFakes.key)
      #expect(try await post(client, replacement) == .accepted)
      // Another device's tokens are untouched.
      let otherStatus = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post,
        headers: [.contentType: "application/json", .authorization: "Bearer \(otherDevice)"],
        body: ByteBuffer(string: IngestFakes.stepTrainerBody(serial: "S-2", count: 2))
      ).status
      #expect(otherStatus == .accepted)
    }
    await ingestor.shutdown()
    let stored = String(decoding: try await lake.storage.get(RevocationList.storageKey), as: UTF8.self)
    #expect(!stored.contains("S-1") && !stored.contains("s-1") && !stored.contains(first))
  }

  @Test func aDamagedRevocationListKeepsTheLastOneRead() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    var list = RevocationList()
    list.revoke(role: .device, subject: "S-1", at: 4_000_000_000, key: IngestFakes.key)
    try await list.save(storage: lake.storage)
    let revocations = TokenRevocations()
    try await revocations.refresh(storage: lake.storage)
    try await lake.storage.put(RevocationList.storageKey, bytes: Array("{not json".utf8))
    await #expect(throws: StorageError.self) { try await revocations.refresh(storage: lake.storage) }
    #expect(!revocations.isEmpty)
  }
}
