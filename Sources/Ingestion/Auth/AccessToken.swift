import Crypto
import Foundation

/// Who a bearer token speaks for, and until when.
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
  /// The serial number (device), the email (user) or "admin".
  public var subject: String
  /// Expiry, in seconds since 1970.
  public var expiresAt: Int64

  /// A token's claims.
  public init(role: Role, subject: String, expiresAt: Int64) {
    self.role = role
    self.subject = subject
    self.expiresAt = expiresAt
  }

  enum CodingKeys: String, CodingKey {
    case role
    case subject = "sub"
    case expiresAt = "exp"
  }

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

  /// Checks a token's signature and expiry and returns its claims.
  public static func verify(_ token: String, with key: TokenKey, now: Date = Date()) throws(TokenError) -> AccessToken {
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0] == prefix else { throw .malformed }
    guard let mac = Base64URL.decode(parts[2]) else { throw .malformed }
    let signingInput = "\(parts[0]).\(parts[1])"
    guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(signingInput.utf8), using: key.symmetricKey)
    else { throw .badSignature }
    guard let claimsData = Base64URL.decode(parts[1]),
      let claims = try? JSONDecoder().decode(AccessToken.self, from: claimsData)
    else { throw .malformed }
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

  /// A short label for metrics and logs.
  public var reason: String {
    switch self {
    case .missing: "missing_token"
    case .malformed: "malformed_token"
    case .badSignature: "bad_signature"
    case .expired: "expired_token"
    }
  }

  public var description: String {
    switch self {
    case .missing: "no bearer token: send 'Authorization: Bearer <token>' (stedi token issue prints one)"
    case .malformed: "the bearer token is not a STEDI token"
    case .badSignature: "the bearer token's signature does not match this lake's key"
    case .expired: "the bearer token has expired; issue a new one"
    }
  }
}

/// base64url without padding (RFC 4648 §5), as tokens travel in headers and URL fragments.
enum Base64URL {
  static func encode(_ data: Data) -> String {
    data.base64EncodedString()
      .replacingOccurrences(of: "+", with: "-")
      .replacingOccurrences(of: "/", with: "_")
      .replacingOccurrences(of: "=", with: "")
  }

  static func decode(_ text: Substring) -> Data? {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base64.count % 4 != 0 { base64.append("=") }
    return Data(base64Encoded: base64)
  }
}
