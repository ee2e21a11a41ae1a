import Crypto
import Foundation
import StediTestSupport
import Testing

@testable import IngestAPI

/// Tokens have one spelling and name one canonical identity (issue 15, items 7–8).
@Suite struct TokenFormatTests {
  static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

  func signed(_ subject: String = "S-1", role: AccessToken.Role = .device) -> String {
    AccessToken(role: role, subject: subject, expiresAt: Int64(Date().timeIntervalSince1970) + 3600).signed(
      with: IngestFakes.key)
  }

  @Test func theIssuedSpellingIsAccepted() throws {
    #expect(try AccessToken.verify(signed(), with: IngestFakes.key).subject == "s-1")
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
      #expect(throws: TokenError.self) { try AccessToken.verify(variant, with: IngestFakes.key) }
    }
    #expect(throws: TokenError.malformed) { try AccessToken.verify(token + "=", with: IngestFakes.key) }
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
    let mac = HMAC256.code(input, key: IngestFakes.key)
    let verified = try AccessToken.verify("\(input).\(mac)", with: IngestFakes.key)
    #expect(Array(verified.subject.utf8) == Array("josé@x.com".utf8))
  }

  @Test func aMintedTokenCarriesItsIssueTimeAndExpiry() throws {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let minted = AccessToken.mint(.user, " A@Example.com", validFor: 3600, now: now, key: IngestFakes.key)
    let claims = try AccessToken.verify(minted, with: IngestFakes.key, now: now)
    #expect(
      claims == AccessToken(role: .user, subject: "a@example.com", expiresAt: 1_800_003_600, issuedAt: 1_800_000_000))
    #expect(throws: TokenError.expired) {
      try AccessToken.verify(minted, with: IngestFakes.key, now: now.addingTimeInterval(3600))
    }
  }
}

/// HMAC-SHA256 in base64url, for building tokens by hand.
enum HMAC256 {
  static func code(_ input: String, key: TokenKey) -> String {
    Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: key.symmetricKey)))
  }
}
