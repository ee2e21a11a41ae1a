import Crypto
import Foundation
import Lakehouse

/// Who a bearer token speaks for, and until when.
///
/// A token is a bearer secret: whoever holds it writes as its subject until it expires or is
/// revoked (`stedi token revoke`), so it travels only over HTTPS or loopback and never in logs.
public struct AccessToken: Sendable, Equatable, Codable {
  /// What the holder may write.
  public enum Role: String, Sendable, Codable, CaseIterable {
    /// A Step Trainer (or the host that reads it): its own serial number's readings.
    case device
    /// A phone app: its own user's accelerometer readings.
    case user
    /// The back office: customer records, and anything else.
    case admin
  }

  /// The role.
  public var role: Role
  /// The serial number (device), the email (user) or "admin", in canonical form (`Identity`).
  public var subject: String
  /// Expiry, in seconds since 1970.
  public var expiresAt: Int64
  /// When it was issued, in seconds since 1970 (nil in tokens from before revocation existed):
  /// revoking a subject refuses its tokens issued up to then.
  public var issuedAt: Int64?

  /// A token's claims; the subject is stored in canonical form, so the token names one identity
  /// however the issuer spelled it.
  public init(role: Role, subject: String, expiresAt: Int64, issuedAt: Int64? = nil) {
    self.role = role
    self.subject = role == .admin ? subject : Identity.canonical(subject)
    self.expiresAt = expiresAt
    self.issuedAt = issuedAt
  }

  enum CodingKeys: String, CodingKey {
    case role
    case subject = "sub"
    case expiresAt = "exp"
    case issuedAt = "iat"
  }

  /// Whether a record's serial number or email names this token's subject (any spelling of it).
  public func names(_ identity: String) -> Bool { identity == subject || Identity.canonical(identity) == subject }

  /// The version prefix: a future format gets a new one and old tokens are refused clearly.
  static let prefix = "stedi1"

  /// The token string: `stedi1.<claims>.<HMAC-SHA256>`, both parts base64url without padding.
  ///
  /// A signed token, not a random one looked up in a table: the service checks it with its key
  /// alone, so it needs no database and any number of ingest nodes sharing the key agree.
  public func signed(with key: TokenKey) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let claims = Base64URL.encode(try! encoder.encode(self))
    let signingInput = "\(Self.prefix).\(claims)"
    let mac = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: key.symmetricKey)
    return "\(signingInput).\(Base64URL.encode(Data(mac)))"
  }

  /// Mints a token: `subject` in `role`, issued `now`, valid for `seconds`, signed with `key`.
  public static func mint(
    _ role: Role, _ subject: String, validFor seconds: Double, now: Date = Date(), key: TokenKey
  ) -> String {
    AccessToken(
      role: role, subject: subject, expiresAt: Int64(now.timeIntervalSince1970 + seconds),
      issuedAt: Int64(now.timeIntervalSince1970)
    ).signed(with: key)
  }

  /// Checks a token's signature and expiry and returns its claims.
  public static func verify(_ token: String, with key: TokenKey, now: Date = Date()) throws(TokenError) -> AccessToken {
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0] == prefix else { throw .malformed }
    // Exactly one encoding of a signature is accepted (see `Base64URL.decodeCanonical`).
    guard let mac = Base64URL.decodeCanonical(parts[2]), mac.count == SHA256.byteCount else { throw .malformed }
    let signingInput = "\(parts[0]).\(parts[1])"
    guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(signingInput.utf8), using: key.symmetricKey)
    else { throw .badSignature }
    guard let claimsData = Base64URL.decodeCanonical(parts[1]),
      var claims = try? JSONDecoder().decode(AccessToken.self, from: claimsData)
    else { throw .malformed }
    // Tokens issued before subjects were canonical still name their subject's one identity.
    if claims.role != .admin { claims.subject = Identity.canonical(claims.subject) }
    guard Double(claims.expiresAt) > now.timeIntervalSince1970 else { throw .expired }
    return claims
  }
}

/// Why a bearer token was refused (never carries the token itself: it must not reach logs).
public enum TokenError: Error, Sendable, Equatable, CustomStringConvertible {
  case missing
  case malformed
  case badSignature
  case expired
  case revoked

  /// A short label for metrics and logs.
  public var reason: String {
    switch self {
    case .missing: "missing_token"
    case .malformed: "malformed_token"
    case .badSignature: "bad_signature"
    case .expired: "expired_token"
    case .revoked: "revoked_token"
    }
  }

  public var description: String {
    switch self {
    case .missing: "no bearer token: send 'Authorization: Bearer <token>' (stedi token issue prints one)"
    case .malformed: "the bearer token is not a STEDI token"
    case .badSignature: "the bearer token's signature does not match this lake's key"
    case .expired: "the bearer token has expired; issue a new one"
    case .revoked: "the bearer token has been revoked; ask for a new one"
    }
  }
}

/// base64url without padding (RFC 4648 §5), as tokens travel in headers and URL fragments.
package enum Base64URL {
  package static func encode(_ data: Data) -> String {
    data.base64EncodedString()
      .replacingOccurrences(of: "+", with: "-")
      .replacingOccurrences(of: "/", with: "_")
      .replacingOccurrences(of: "=", with: "")
  }

  package static func decode(_ text: Substring) -> Data? {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base64.count % 4 != 0 { base64.append("=") }
    return Data(base64Encoded: base64)
  }

  /// The bytes of `text` only when `text` is exactly how `encode` writes them: no padding, no
  /// standard-alphabet characters, no unused bits set in the last character. So a token has one
  /// spelling, and revocation or de-duplication keyed on the string cannot be sidestepped.
  package static func decodeCanonical(_ text: Substring) -> Data? {
    guard text.utf8.allSatisfy(isAlphabet), let data = decode(text), encode(data) == text else { return nil }
    return data
  }

  private static func isAlphabet(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"),
      UInt8(ascii: "-"), UInt8(ascii: "_"):
      true
    default: false
    }
  }
}
