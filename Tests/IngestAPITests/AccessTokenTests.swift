import Foundation
import Lakehouse
import StediTestSupport
import Testing

@testable import IngestAPI

@Suite struct AccessTokenTests {
  @Test func aSignedTokenVerifiesWithItsKeyOnly() throws {
    let claims = IngestFakes.token(.device, "S-1")
    let signed = claims.signed(with: IngestFakes.key)
    #expect(signed.hasPrefix("stedi1."))
    #expect(try AccessToken.verify(signed, with: IngestFakes.key) == claims)
    let otherKey = try TokenKey(bytes: Array(repeating: 7, count: 32))
    #expect(throws: TokenError.badSignature) { try AccessToken.verify(signed, with: otherKey) }
  }

  @Test func tamperedClaimsExpiryAndGarbageAreRefused() throws {
    let signed = IngestFakes.token(.device, "S-1").signed(with: IngestFakes.key)
    let parts = signed.split(separator: ".").map(String.init)
    let forged = Base64URL.encode(try JSONEncoder().encode(IngestFakes.token(.admin, "admin")))
    #expect(throws: TokenError.badSignature) {
      try AccessToken.verify("\(parts[0]).\(forged).\(parts[2])", with: IngestFakes.key)
    }
    #expect(throws: TokenError.expired) {
      try AccessToken.verify(
        IngestFakes.token(.user, "a@example.com", expiresIn: -1).signed(with: IngestFakes.key), with: IngestFakes.key)
    }
    for garbage in [
      "", "stedi1", "stedi1..", "bearer", "stedi2.\(parts[1]).\(parts[2])", "\(parts[0]).\(parts[1]).%%%",
    ] {
      #expect(throws: TokenError.self) { try AccessToken.verify(garbage, with: IngestFakes.key) }
    }
  }

  @Test func theLakeKeyIsCreatedOnceReadableByItsOwnerOnly() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let first = try await TokenKey.load(storage: lake.storage, environment: [:])
    let path = "\(lake.root)/\(TokenKey.lakeKey)"
    let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    #expect(mode == 0o600)
    let second = try await TokenKey.load(storage: lake.storage, environment: [:])
    let signed = IngestFakes.token(.admin, "admin").signed(with: first)
    #expect(try AccessToken.verify(signed, with: second).role == .admin)

    let fromEnvironment = try await TokenKey.load(
      storage: lake.storage, environment: ["STEDI_TOKEN_KEY": String(repeating: "k", count: 40)])
    #expect(throws: TokenError.badSignature) { try AccessToken.verify(signed, with: fromEnvironment) }
    await #expect(throws: TokenKeyError.self) {
      _ = try await TokenKey.load(storage: lake.storage, environment: ["STEDI_TOKEN_KEY": "short"])
    }
  }
}
