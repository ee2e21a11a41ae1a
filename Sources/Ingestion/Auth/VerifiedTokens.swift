import Foundation
import Synchronization

/// Tokens already verified, so a device posting every second is not re-checked: JSON decoding and
/// HMAC were 6% of the service's CPU in the load benchmark. Expiry is checked on every use.
final class VerifiedTokens: Sendable {
  private let cache = Mutex<[String: AccessToken]>([:])

  /// The token's claims, verifying it with `key` the first time.
  func claims(of token: String, key: TokenKey) throws(TokenError) -> AccessToken {
    if let claims = cache.withLock({ $0[token] }) {
      guard Double(claims.expiresAt) > Date().timeIntervalSince1970 else { throw .expired }
      return claims
    }
    let claims = try AccessToken.verify(token, with: key)
    cache.withLock { cache in
      // Bounded: a flood of distinct valid tokens empties it rather than growing it.
      if cache.count >= 10_000 { cache.removeAll(keepingCapacity: true) }
      cache[token] = claims
    }
    return claims
  }
}
