import Crypto
import Foundation
import IngestAPI
import LakeStorage
import Lakehouse

/// Tokens the lake no longer accepts before they expire: single tokens, or every token of a
/// subject issued up to a moment. Kept in the lake's metadata and reloaded by the ingest service
/// while it runs, like the erasure list.
///
/// It holds no secret and no personal data: a token by the SHA-256 of its string (tokens have one
/// spelling, see `Base64URL.decodeCanonical`), a subject by an HMAC under the token key.
public struct RevocationList: Sendable, Equatable, Codable {
  /// Where the list lives in a lake.
  public static let storageKey = "_stedi/revoked-tokens.json"

  /// One revoked token.
  public struct RevokedToken: Sendable, Equatable, Codable {
    /// SHA-256 of the token string, in hex.
    public var sha256: String
    /// The token's own expiry (seconds since 1970): past it the entry could go.
    public var expiresAt: Int64
  }

  /// A subject whose tokens issued up to `revokedAt` are refused.
  public struct RevokedSubject: Sendable, Equatable, Codable {
    /// `RevocationList.subjectHash(role:subject:key:)` of the role and canonical subject.
    public var hash: String
    /// Seconds since 1970; tokens issued later (a replacement) are accepted.
    public var revokedAt: Int64
  }

  /// Revoked tokens.
  public var tokens: [RevokedToken] = []
  /// Revoked subjects.
  public var subjects: [RevokedSubject] = []

  /// An empty list.
  public init() {}

  /// The hash a token is revoked under.
  public static func tokenHash(_ token: String) -> String {
    SecretKeyFile.hex(Array(SHA256.hash(data: Array(token.utf8))))
  }

  /// The keyed hash a subject is revoked under (its canonical identity, with its role).
  public static func subjectHash(role: AccessToken.Role, subject: String, key: TokenKey) -> String {
    let text = "revoked\u{0}\(role.rawValue)\u{0}\(role == .admin ? subject : Identity.canonical(subject))"
    return SecretKeyFile.hex(Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key.symmetricKey)))
  }

  /// Adds a token (once).
  public mutating func revoke(token: String, claims: AccessToken) {
    let hash = Self.tokenHash(token)
    guard !tokens.contains(where: { $0.sha256 == hash }) else { return }
    tokens.append(RevokedToken(sha256: hash, expiresAt: claims.expiresAt))
  }

  /// Refuses every token of `subject` issued up to `at` (seconds since 1970).
  public mutating func revoke(role: AccessToken.Role, subject: String, at: Int64, key: TokenKey) {
    let hash = Self.subjectHash(role: role, subject: subject, key: key)
    if let index = subjects.firstIndex(where: { $0.hash == hash }) {
      subjects[index].revokedAt = max(subjects[index].revokedAt, at)
    } else {
      subjects.append(RevokedSubject(hash: hash, revokedAt: at))
    }
  }

  /// The list stored in `storage`, or an empty one.
  public static func load(storage: any LakeStorage) async throws(StorageError) -> RevocationList {
    let bytes: [UInt8]
    do {
      bytes = try await storage.get(storageKey)
    } catch .notFound(_, _) {
      return RevocationList()
    }
    do {
      return try JSONDecoder().decode(RevocationList.self, from: Data(bytes))
    } catch {
      // A damaged list is an error, never an empty one: that would let revoked tokens back in.
      throw .invalidObject(key: storageKey, reason: "not a token revocation list (\(error))")
    }
  }

  /// Stores the list (one object, one put).
  public func save(storage: any LakeStorage) async throws(StorageError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try await storage.put(Self.storageKey, bytes: Array((try? encoder.encode(self)) ?? Data("{}".utf8)) + [0x0A])
  }
}
