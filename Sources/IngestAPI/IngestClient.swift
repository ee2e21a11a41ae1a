import AsyncHTTPClient
import Lakehouse
import NIOCore

/// The one client of the ingest service: posts NDJSON batches with a bearer token and reads the
/// answers as the contract's types. Used by `stedi capture --ingest`, the fleet and the tests.
///
/// It is cheap on the hot path, as a load generator needs: a URL per endpoint is built once, and a
/// 202's body is decoded only when asked for (`acknowledgement()`) or when it can hold a refusal
/// count (`refused`).
public struct IngestClient: Sendable {
  /// The service's base URL (`http://host:port`, no trailing slash).
  public let baseURL: String
  /// The HTTP client requests go through (its owner shuts it down).
  public let httpClient: HTTPClient
  private let stepTrainerURL: String
  private let accelerometerURL: String
  private let customersURL: String

  /// A client of the service at `baseURL`, sending through `httpClient`.
  public init(baseURL: String, httpClient: HTTPClient = .shared) {
    self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    self.httpClient = httpClient
    stepTrainerURL = self.baseURL + IngestPath.stepTrainerReadings
    accelerometerURL = self.baseURL + IngestPath.accelerometerReadings
    customersURL = self.baseURL + IngestPath.customers
  }

  /// The full URL of `path`.
  public func url(_ path: String) -> String { baseURL + path }

  /// The URL records of `source` are posted to.
  public func url(for source: LandingSource) -> String {
    switch source {
    case .stepTrainer: stepTrainerURL
    case .accelerometer: accelerometerURL
    case .customer: customersURL
    }
  }

  /// POSTs an NDJSON batch of `source` records with `token`; throws on network errors and
  /// timeouts (see `isTimeout`), returns every HTTP answer.
  public func post(
    _ source: LandingSource, token: String, ndjson: [UInt8], timeout: Duration = .seconds(10)
  ) async throws -> IngestResponse {
    try await post(url: url(for: source), token: token, ndjson: ndjson, timeout: timeout)
  }

  /// POSTs an NDJSON body to `path` (any path, for tests of the service's routing).
  public func post(
    path: String, token: String, ndjson: [UInt8], timeout: Duration = .seconds(10)
  ) async throws -> IngestResponse {
    try await post(url: url(path), token: token, ndjson: ndjson, timeout: timeout)
  }

  private func post(url: String, token: String, ndjson: [UInt8], timeout: Duration) async throws -> IngestResponse {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(name: "Authorization", value: "Bearer \(token)")
    request.headers.add(name: "Content-Type", value: "application/x-ndjson")
    request.body = .bytes(ByteBuffer(bytes: ndjson))
    let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
    let response = try await httpClient.execute(request, timeout: .nanoseconds(max(1, nanoseconds)))
    let body = try await response.body.collect(upTo: IngestResponse.maxBodyBytes)
    let status = Int(response.status.code)
    // Only answers that ask to come back later carry Retry-After: no header look-up for a 202.
    let retryAfter =
      status == 202 ? nil : response.headers.first(name: "Retry-After").flatMap { Int($0) }
    return IngestResponse(status: status, body: body, retryAfterSeconds: retryAfter)
  }

  /// GETs `/healthz`: the status and the decoded body (nil if it was not the health JSON).
  public func health(timeout: Duration = .seconds(10)) async throws -> (status: Int, health: IngestHealth?) {
    let request = HTTPClientRequest(url: url(IngestPath.healthz))
    let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
    let response = try await httpClient.execute(request, timeout: .nanoseconds(max(1, nanoseconds)))
    let body = try await response.body.collect(upTo: IngestResponse.maxBodyBytes)
    return (
      Int(response.status.code),
      try? IngestJSON.decode(IngestHealth.self, from: body.readableBytesView)
    )
  }

  /// Whether a failed request ran out of time (rather than losing its connection).
  public static func isTimeout(_ error: any Error) -> Bool {
    guard let error = error as? HTTPClientError else { return false }
    return error == .deadlineExceeded || error == .readTimeout || error == .writeTimeout
      || error == .connectTimeout
  }
}

/// One answer of the ingest service to a POST: its status, body and Retry-After, with the body
/// decoded into the contract's types on demand.
public struct IngestResponse: Sendable {
  /// The largest answer body read (the service's are a few hundred bytes).
  public static let maxBodyBytes = 1 << 20
  /// The shortest 202 body that holds a `refused` count: shorter ones are not decoded.
  static let shortestWithRefused = #"{"accepted":0,"refused":1}"#.utf8.count

  /// The HTTP status.
  public var status: Int
  /// The body as it came.
  public var body: ByteBuffer
  /// The Retry-After header in seconds (503 and other non-202 answers only).
  public var retryAfterSeconds: Int?

  /// An answer.
  public init(status: Int, body: ByteBuffer, retryAfterSeconds: Int? = nil) {
    self.status = status
    self.body = body
    self.retryAfterSeconds = retryAfterSeconds
  }

  /// Whether the batch was acknowledged (202).
  public var isAccepted: Bool { status == 202 }

  /// The 202 body, decoded; nil for other statuses or an unreadable body.
  public func acknowledgement() -> IngestAcknowledgement? {
    guard status == 202 else { return nil }
    return try? IngestJSON.decode(IngestAcknowledgement.self, from: body.readableBytesView)
  }

  /// Records of an acknowledged batch refused on purpose (0 otherwise). A 202 body too short to
  /// hold the count is not decoded at all.
  public var refused: Int {
    guard status == 202, body.readableBytes >= Self.shortestWithRefused else { return 0 }
    return acknowledgement()?.refused ?? 0
  }

  /// The rejection a 4xx or 5xx answer carries; nil for 2xx, or a body that is not the error JSON
  /// (a proxy's page, say).
  public var rejection: IngestRejection? {
    guard !(200..<300).contains(status),
      let body = try? IngestJSON.decode(IngestErrorBody.self, from: body.readableBytesView)
    else { return nil }
    return IngestRejection(status: status, body: body)
  }

  /// The body as text, for messages.
  public var text: String { String(buffer: body) }
}
