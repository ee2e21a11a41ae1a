import Foundation
import Lakehouse
import Testing

@testable import IngestAPI

@Suite struct AccessTokenTests {
  @Test func aSignedTokenVerifiesWithItsKeyOnly() throws {
    let claims = token(.device, "S-1")
    let signed = claims.signed(with: testKey)
    #expect(signed.hasPrefix("stedi1."))
    #expect(try AccessToken.verify(signed, with: testKey) == claims)
    let otherKey = try TokenKey(bytes: Array(repeating: 7, count: 32))
    #expect(throws: TokenError.badSignature) { try AccessToken.verify(signed, with: otherKey) }
  }

  @Test func tamperedClaimsExpiryAndGarbageAreRefused() throws {
    let signed = token(.device, "S-1").signed(with: testKey)
    let parts = signed.split(separator: ".").map(String.init)
    let forged = Base64URL.encode(try JSONEncoder().encode(token(.admin, "admin")))
    #expect(throws: TokenError.badSignature) {
      try AccessToken.verify("\(parts[0]).\(forged).\(parts[2])", with: testKey)
    }
    #expect(throws: TokenError.expired) {
      try AccessToken.verify(token(.user, "a@example.com", expiresIn: -1).signed(with: testKey), with: testKey)
    }
    for garbage in [
      "", "stedi1", "stedi1..", "bearer", "stedi2.\(parts[1]).\(parts[2])", "\(parts[0]).\(parts[1]).%%%",
    ] {
      #expect(throws: TokenError.self) { try AccessToken.verify(garbage, with: testKey) }
    }
  }

  @Test func theLakeKeyIsCreatedOnceReadableByItsOwnerOnly() async throws {
    let lake = try TestLake()
    defer { lake.remove() }
    let first = try await TokenKey.load(storage: lake.storage, environment: [:])
    let path = "\(lake.root)/\(TokenKey.lakeKey)"
    let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    #expect(mode == 0o600)
    let second = try await TokenKey.load(storage: lake.storage, environment: [:])
    let signed = token(.admin, "admin").signed(with: first)
    #expect(try AccessToken.verify(signed, with: second).role == .admin)

    let fromEnvironment = try await TokenKey.load(
      storage: lake.storage, environment: ["STEDI_TOKEN_KEY": String(repeating: "k", count: 40)])
    #expect(throws: TokenError.badSignature) { try AccessToken.verify(signed, with: fromEnvironment) }
    await #expect(throws: TokenKeyError.self) {
      _ = try await TokenKey.load(storage: lake.storage, environment: ["STEDI_TOKEN_KEY": "short"])
    }
  }
}
