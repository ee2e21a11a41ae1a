import Foundation
import IngestAPI
import Synchronization

/// Tokens already verified, so a device posting every second is not re-checked: JSON decoding and
/// HMAC were 6% of the service's CPU in the load benchmark. Expiry and revocation are checked on
/// every use.
final class VerifiedTokens: Sendable {
  private struct Verified {
    var claims: AccessToken
    /// Computed once per token, and only once something was revoked.
    var hashes: (token: String, subject: String)?
  }

  private let cache = Mutex<[String: Verified]>([:])

  /// The token's claims, verifying it with `key` the first time; refused when expired or revoked.
  func claims(of token: String, key: TokenKey, revocations: TokenRevocations? = nil) throws(TokenError)
    -> AccessToken
  {
    var verified: Verified
    var changed = false
    if let known = cache.withLock({ $0[token] }) {
      verified = known
    } else {
      verified = Verified(claims: try AccessToken.verify(token, with: key))
      changed = true
    }
    let claims = verified.claims
    guard Double(claims.expiresAt) > Date().timeIntervalSince1970 else { throw .expired }
    if let revocations, !revocations.isEmpty {
      if verified.hashes == nil {
        verified.hashes = (
          RevocationList.tokenHash(token),
          RevocationList.subjectHash(role: claims.role, subject: claims.subject, key: key)
        )
        changed = true
      }
      let hashes = verified.hashes!
      if revocations.isRevoked(tokenHash: hashes.token, subjectHash: hashes.subject, issuedAt: claims.issuedAt) {
        throw .revoked
      }
    }
    // Written only when something was computed: a known token costs one look-up per request.
    guard changed else { return claims }
    cache.withLock { cache in
      // Bounded: a flood of distinct valid tokens empties it rather than growing it.
      if cache[token] == nil, cache.count >= 10_000 { cache.removeAll(keepingCapacity: true) }
      cache[token] = verified
    }
    return claims
  }
}
