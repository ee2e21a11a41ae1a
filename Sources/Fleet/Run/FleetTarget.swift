import AsyncHTTPClient
import Foundation
import Ingestion
import NIOCore

/// The ingest service under test, and the tokens the fleet's devices use with it.
public struct FleetTarget: Sendable {
  /// The service's base URL (`http://host:port`).
  public let baseURL: String
  let key: TokenKey
  let client: HTTPClient

  /// A target at `baseURL` whose tokens are signed with `key`; `connections` bounds the
  /// keep-alive connections the whole fleet shares.
  public init(baseURL: String, key: TokenKey, connections: Int = 64) {
    self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    self.key = key
    var configuration = HTTPClient.Configuration.singletonConfiguration
    configuration.connectionPool = .init(
      idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
    configuration.timeout.connect = .seconds(5)
    client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
  }

  /// Closes the fleet's connections.
  public func shutdown() async {
    try? await client.shutdown()
  }

  /// A token for `subject` in `role`, valid for a day.
  func token(_ role: AccessToken.Role, _ subject: String) -> String {
    AccessToken(role: role, subject: subject, expiresAt: Int64(Date().timeIntervalSince1970) + 86_400).signed(with: key)
  }

  /// The answer to one POST.
  struct Answer: Sendable {
    var status: Int
    var refused: Int
    var reason: String?
  }

  /// Whether a failed request ran out of time (rather than losing its connection).
  static func isTimeout(_ error: any Error) -> Bool {
    guard let error = error as? HTTPClientError else { return false }
    return error == .deadlineExceeded || error == .readTimeout || error == .writeTimeout
      || error == .connectTimeout
  }

  /// POSTs NDJSON to `path`; throws on network errors and timeouts.
  func post(_ path: String, token: String, ndjson: [UInt8], timeout: Duration) async throws -> Answer {
    var request = HTTPClientRequest(url: baseURL + path)
    request.method = .POST
    request.headers.add(name: "Authorization", value: "Bearer \(token)")
    request.headers.add(name: "Content-Type", value: "application/x-ndjson")
    request.body = .bytes(ByteBuffer(bytes: ndjson))
    let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
    let response = try await client.execute(request, timeout: .nanoseconds(max(1, nanoseconds)))
    let body = try await response.body.collect(upTo: 1 << 16)
    let status = Int(response.status.code)
    guard status != 202 || body.readableBytes > 20 else { return Answer(status: status, refused: 0, reason: nil) }
    let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
    return Answer(status: status, refused: object?["refused"] as? Int ?? 0, reason: object?["reason"] as? String)
  }
}
