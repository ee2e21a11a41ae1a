import AsyncHTTPClient
import Foundation
import IngestAPI

/// The ingest service under test, and the tokens the fleet's devices use with it.
public struct FleetTarget: Sendable {
  /// The service's base URL (`http://host:port`).
  public var baseURL: String { ingest.baseURL }
  let key: TokenKey
  let client: HTTPClient
  /// The contract's client, over the fleet's own connection pool.
  let ingest: IngestClient

  /// A target at `baseURL` whose tokens are signed with `key`; `connections` bounds the
  /// keep-alive connections the whole fleet shares.
  public init(baseURL: String, key: TokenKey, connections: Int = 64) {
    self.key = key
    var configuration = HTTPClient.Configuration.singletonConfiguration
    configuration.connectionPool = .init(
      idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
    configuration.timeout.connect = .seconds(5)
    client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    ingest = IngestClient(baseURL: baseURL, httpClient: client)
  }

  /// Closes the fleet's connections.
  public func shutdown() async {
    try? await client.shutdown()
  }

  /// A token for `subject` in `role`, valid for a day.
  func token(_ role: AccessToken.Role, _ subject: String) -> String {
    AccessToken.mint(role, subject, validFor: 86_400, key: key)
  }
}
