import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import LakeStorage
import Lakehouse
import Testing

@testable import Ingestion

/// Tokens have one spelling, name one canonical identity, and can be revoked (issue 15, items 7–8).
@Suite struct TokenHardeningTests {
  static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

  func signed(_ subject: String = "S-1", role: AccessToken.Role = .device) -> String {
    AccessToken(role: role, subject: subject, expiresAt: Int64(Date().timeIntervalSince1970) + 3600).signed(
      with: testKey)
  }

  @Test func theIssuedSpellingIsAccepted() throws {
    #expect(try AccessToken.verify(signed(), with: testKey).subject == "s-1")
  }

  @Test func everyOtherEncodingOfTheSameSignatureIsRefused() throws {
    let token = signed()
    let parts = token.split(separator: ".").map(String.init)
    var variants = [token + "=", token + "==", parts[0] + "." + parts[1] + "=." + parts[2]]
    // Standard base64 with padding: same bytes, other characters.
    let mac = try #require(Base64URL.decode(Substring(parts[2])))
    variants.append(parts[0] + "." + parts[1] + "." + mac.base64EncodedString())
    let claims = try #require(Base64URL.decode(Substring(parts[1])))
    variants.append(parts[0] + "." + claims.base64EncodedString() + "." + parts[2])
    // Last characters whose unused low bits differ: they decode to the same 32 bytes.
    let signature = Array(parts[2])
    for character in Self.alphabet where character != signature.last! {
      let candidate = String(signature.dropLast()) + String(character)
      if Base64URL.decode(Substring(candidate)) == mac { variants.append(parts[0] + "." + parts[1] + "." + candidate) }
    }
    #expect(variants.count >= 8)
    for variant in variants {
      // Refused, as malformed or (for a re-encoded claims part, which is what is signed) as badly signed.
      #expect(throws: TokenError.self) { try AccessToken.verify(variant, with: testKey) }
    }
    #expect(throws: TokenError.malformed) { try AccessToken.verify(token + "=", with: testKey) }
  }

  @Test func subjectsAreCanonicalWhateverTheSpelling() throws {
    let nfd = " Jose\u{301}@X.com\t"
    let token = AccessToken(role: .user, subject: nfd, expiresAt: 4_000_000_000)
    #expect(Array(token.subject.utf8) == Array("josé@x.com".utf8))
    #expect(token.names("JOSÉ@x.com"))
    #expect(token.names("jose\u{301}@x.com"))
    #expect(!token.names("jose@x.com"))
    #expect(AccessToken(role: .device, subject: "SER-A\u{30A}", expiresAt: 4_000_000_000).subject == "ser-å")
  }

  @Test func aTokenFromBeforeCanonicalSubjectsNamesItsCanonicalSubject() throws {
    // Claims as an older stedi wrote them: the subject as given.
    let claims = Base64URL.encode(Data(#"{"exp":4000000000,"role":"user","sub":"Jose\u0301@X.com"}"#.utf8))
    let input = "stedi1.\(claims)"
    let mac = HMAC256.code(input, key: testKey)
    let verified = try AccessToken.verify("\(input).\(mac)", with: testKey)
    #expect(Array(verified.subject.utf8) == Array("josé@x.com".utf8))
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
      body: ByteBuffer(string: stepTrainerBody(serial: "S-1", count: 2))
    ).status
  }

  @Test func revokedTokensAndSubjectsAreRefusedOnceTheServiceReloadsTheList() async throws {
    let lake = try TestLake()
    defer { lake.remove() }
    let (ingestor, _) = try await Ingestor.open(storage: lake.storage, logDirectory: lake.logFolder)
    let revocations = TokenRevocations()
    let service = IngestService(ingestor: ingestor, key: testKey, metrics: IngestMetrics(), revocations: revocations)
    let now = Int64(Date().timeIntervalSince1970)
    let first = signed()
    let second = AccessToken(role: .device, subject: "s-1", expiresAt: now + 3600, issuedAt: now - 5).signed(
      with: testKey)
    let otherDevice = signed("S-2")
    try await Application(router: service.router()).test(.router) { client in
      #expect(try await post(client, first) == .accepted)

      var list = RevocationList()
      list.revoke(token: first, claims: try AccessToken.verify(first, with: testKey))
      try await list.save(storage: lake.storage)
      // Not before the reload (the service reloads it every --erasure-refresh-seconds).
      #expect(try await post(client, first) == .accepted)
      try await revocations.refresh(storage: lake.storage)
      let refused = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post,
        headers: [.contentType: "application/json", .authorization: "Bearer \(first)"],
        body: ByteBuffer(string: stepTrainerBody(serial: "S-1", count: 2)))
      #expect(refused.status == .unauthorized)
      #expect(String(buffer: refused.body).contains("revoked_token"))
      #expect(try await post(client, second) == .accepted)

      // Every token of the device issued up to now, in any spelling of its serial.
      list.revoke(role: .device, subject: " S-1 ", at: now - 1, key: testKey)
      try await list.save(storage: lake.storage)
      try await revocations.refresh(storage: lake.storage)
      #expect(try await post(client, second) == .unauthorized)
      let replacement = AccessToken(role: .device, subject: "S-1", expiresAt: now + 3600, issuedAt: now).signed(
        with: testKey)
      #expect(try await post(client, replacement) == .accepted)
      // Another device's tokens are untouched.
      let otherStatus = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post,
        headers: [.contentType: "application/json", .authorization: "Bearer \(otherDevice)"],
        body: ByteBuffer(string: stepTrainerBody(serial: "S-2", count: 2))
      ).status
      #expect(otherStatus == .accepted)
    }
    await ingestor.shutdown()
    let stored = String(decoding: try await lake.storage.get(RevocationList.storageKey), as: UTF8.self)
    #expect(!stored.contains("S-1") && !stored.contains("s-1") && !stored.contains(first))
  }

  @Test func aDamagedRevocationListKeepsTheLastOneRead() async throws {
    let lake = try TestLake()
    defer { lake.remove() }
    var list = RevocationList()
    list.revoke(role: .device, subject: "S-1", at: 4_000_000_000, key: testKey)
    try await list.save(storage: lake.storage)
    let revocations = TokenRevocations()
    try await revocations.refresh(storage: lake.storage)
    try await lake.storage.put(RevocationList.storageKey, bytes: Array("{not json".utf8))
    await #expect(throws: StorageError.self) { try await revocations.refresh(storage: lake.storage) }
    #expect(!revocations.isEmpty)
  }
}

/// HMAC-SHA256 in base64url, for building tokens by hand.
enum HMAC256 {
  static func code(_ input: String, key: TokenKey) -> String {
    Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: key.symmetricKey)))
  }
}
