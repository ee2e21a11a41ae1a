import Foundation
import Hummingbird
import IngestAPI
import Lakehouse
import Logging
import NIOCore

/// Settings of the HTTP ingest service.
public struct IngestServiceConfiguration: Sendable {
  /// The largest request body accepted (default 16 MiB); larger ones get 413.
  public var maxBodyBytes: Int
  /// Seconds a sender is told to wait (Retry-After) when the buffers are full.
  public var retryAfterSeconds: Int
  /// The folder holding the phone capture page (`simulators/phone`), or nil to serve none.
  public var phonePageFolder: String?
  /// The connection limits in force, reported by `/metrics` (nil: none reported).
  public var connections: ConnectionGuard?

  /// Settings; see each property for the defaults.
  public init(
    maxBodyBytes: Int = 16 << 20, retryAfterSeconds: Int = 1, phonePageFolder: String? = nil,
    connections: ConnectionGuard? = nil
  ) {
    self.maxBodyBytes = maxBodyBytes
    self.retryAfterSeconds = retryAfterSeconds
    self.phonePageFolder = phonePageFolder
    self.connections = connections
  }
}

/// The HTTP ingest service's routes: readings and customers in, health and metrics out.
public struct IngestService: Sendable {
  let ingestor: Ingestor
  let key: TokenKey
  let metrics: IngestMetrics
  let logger: Logger
  let configuration: IngestServiceConfiguration
  let revocations: TokenRevocations
  private let verified = VerifiedTokens()

  /// A service over `ingestor`, checking tokens with `key` and against `revocations`.
  public init(
    ingestor: Ingestor, key: TokenKey, metrics: IngestMetrics, configuration: IngestServiceConfiguration = .init(),
    revocations: TokenRevocations = TokenRevocations(), logger: Logger = Logger(label: "stedi.ingest")
  ) {
    self.ingestor = ingestor
    self.key = key
    self.revocations = revocations
    self.metrics = metrics
    self.configuration = configuration
    self.logger = logger
  }

  /// The router with every endpoint.
  public func router() -> Router<BasicRequestContext> {
    let router = Router()
    for source in IngestPath.postedSources {
      // A refusal is thrown as a `RejectionResponse` (an `HTTPResponseError`): the router answers it.
      router.post(RouterPath(IngestPath.records(source))) { request, _ in
        try await self.ingest(request, source: source)
      }
    }
    router.get(RouterPath(IngestPath.healthz)) { _, _ in
      let (status, body) = Self.health(ingestor)
      var response = Self.json(HTTPResponse.Status(code: status), Array(body.utf8))
      if status == 503 { response.headers[.retryAfter] = String(configuration.retryAfterSeconds) }
      return response
    }
    router.get(RouterPath(IngestPath.metrics)) { _, _ in metricsResponse() }
    if let folder = configuration.phonePageFolder {
      // A route of its own rather than Hummingbird's FileMiddleware, which would answer a path
      // with `..` 400 instead of 404 (and not with the JSON body), serve dot-files and subfolders
      // (the page's `test/` driver) and send other content types (no charset; none for other files).
      router.get(RouterPath(IngestPath.phone)) { _, _ in Self.file(folder, "index.html") }
      router.get(RouterPath(IngestPath.phone + "/{file}")) { _, context in
        Self.file(folder, context.parameters.get("file") ?? "")
      }
    }
    return router
  }

  private func ingest(_ request: Request, source: LandingSource) async throws(RejectionResponse) -> Response {
    let started = ContinuousClock.now
    var request = request
    do {
      let token = try authenticate(request)
      try IngestBody.authoriseEndpoint(source: source, token: token)
      let declared = request.headers[.contentLength].flatMap(Int.init)
      if let declared, declared > configuration.maxBodyBytes { throw tooLarge() }
      // The body's bytes are reserved against the memory budget before they are read (from
      // Content-Length, or chunk by chunk as they stream), and given back when the request ends.
      var reservation = BodyReservation(memory: ingestor.memory)
      defer { reservation.release() }
      let body: ByteBuffer
      if let declared {
        guard reservation.reserve(declared) else { throw buffersFull() }
        do {
          body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
          throw tooLarge()
        }
      } else {
        var collected = ByteBuffer()
        for try await chunk in request.body {
          guard collected.readableBytes + chunk.readableBytes <= configuration.maxBodyBytes else { throw tooLarge() }
          guard reservation.reserve(chunk.readableBytes) else { throw buffersFull() }
          collected.writeImmutableBuffer(chunk)
        }
        body = collected
      }
      // The erasure list as it is now; the Ingestor checks the records again before they land
      // if the list changes meanwhile.
      let erasures = ingestor.erasures.snapshot
      let parsed = body.withUnsafeReadableBytes { bytes in
        Result { () throws(IngestRejection) in
          try IngestBody.parseKeepingRefusals(bytes, source: source, token: token, erasures: erasures)
        }
      }
      let batch = try parsed.get()
      ingestor.learnErasedSerials(batch.refusedCustomers)
      metrics.received(batch.count + batch.refused, source)
      if batch.refused > 0 { metrics.refused(batch.refused, source) }
      guard batch.count > 0 else { throw IngestBody.erased }
      let accepted = try await ingestor.accept(batch)
      metrics.acknowledged(accepted, source)
      metrics.acknowledgementLatency(.now - started)
      return Self.json(.accepted, IngestJSON.encode(IngestAcknowledgement(accepted: accepted, refused: batch.refused)))
    } catch let rejection as IngestRejection {
      throw reject(rejection, path: request.uri.path)
    } catch {
      throw reject(
        IngestRejection(status: 400, reason: "unreadable_body", message: "cannot read the request body: \(error)"),
        path: request.uri.path)
    }
  }

  private func authenticate(_ request: Request) throws(IngestRejection) -> AccessToken {
    do throws(TokenError) {
      guard let header = request.headers[.authorization] else { throw TokenError.missing }
      let parts = header.split(separator: " ", maxSplits: 1)
      guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw TokenError.missing }
      return try verified.claims(of: Self.trimmingWhitespace(String(parts[1])), key: key, revocations: revocations)
    } catch {
      throw IngestRejection(status: 401, reason: error.reason, message: error.description)
    }
  }

  /// `text.trimmingCharacters(in: .whitespaces)`, without calling Foundation when there is
  /// nothing to trim (a token starts and ends with printable ASCII): that call was 3% of the
  /// service's CPU under load, once per request.
  static func trimmingWhitespace(_ text: String) -> String {
    if let first = text.utf8.first, let last = text.utf8.last, (0x21...0x7E).contains(first),
      (0x21...0x7E).contains(last)
    {
      return text
    }
    return text.trimmingCharacters(in: .whitespaces)
  }

  private func buffersFull() -> IngestRejection {
    IngestRejection(
      status: 503, reason: "buffers_full",
      message: "the service holds as many bytes in memory as it may (\(ingestor.memory.limit)); retry later")
  }

  private func tooLarge() -> IngestRejection {
    IngestRejection(
      status: 413, reason: "too_large",
      message: "the body is larger than \(configuration.maxBodyBytes) bytes; send smaller batches")
  }

  /// Counts and logs `rejection`, and returns it as the error the route throws.
  private func reject(_ rejection: IngestRejection, path: String) -> RejectionResponse {
    metrics.rejected(rejection.reason, status: rejection.status)
    // Never the token, and no record contents: logs must not carry credentials or personal data.
    logger.notice(
      "request rejected",
      metadata: [
        "path": "\(path)", "status": "\(rejection.status)", "reason": "\(rejection.reason)",
        "line": "\(rejection.line.map(String.init) ?? "-")", "field": "\(rejection.field ?? "-")",
      ])
    return RejectionResponse(rejection: rejection, retryAfterSeconds: configuration.retryAfterSeconds)
  }

  /// `/healthz`'s status and JSON body, from what `ingestor` has published: no waiting for it, so
  /// that the connection guard can answer it on the network threads however busy the workers are.
  public static func health(_ ingestor: Ingestor) -> (status: Int, body: String) {
    let health = ingestor.health
    // Unhealthy while records cannot reach landing (or the log), although requests may still be
    // acknowledged from the log meanwhile: probes and load balancers must see it.
    let report = IngestHealth(
      problem: health.problem, error: health.error, bufferedBytes: health.bufferedBytes,
      reservedBytes: ingestor.memory.reservedBytes, batchesLanding: health.batchesLanding,
      batchesFailing: health.batchesFailing)
    return (report.isHealthy ? 200 : 503, IngestJSON.string(report))
  }

  /// `GET /metrics`: the service's metrics and the connection limits' counts, in Prometheus text format.
  func metricsResponse() -> Response {
    Response(
      status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
      body: .init(byteBuffer: ByteBuffer(string: metrics.render() + Self.connectionMetrics(configuration.connections))))
  }

  /// The connection limits' counts in Prometheus text format.
  private static func connectionMetrics(_ connections: ConnectionGuard?) -> String {
    guard let counts = connections?.counts else { return "" }
    return """
      # TYPE stedi_ingest_connections_open gauge
      stedi_ingest_connections_open \(counts.open)
      # TYPE stedi_ingest_connections_accepted_total counter
      stedi_ingest_connections_accepted_total \(counts.accepted)
      # TYPE stedi_ingest_connections_closed_total counter
      stedi_ingest_connections_closed_total{reason="evicted"} \(counts.evicted)
      stedi_ingest_connections_closed_total{reason="refused"} \(counts.refused)
      stedi_ingest_connections_closed_total{reason="header_or_idle_timeout"} \(counts.headerOrIdleTimeouts)
      stedi_ingest_connections_closed_total{reason="body_timeout"} \(counts.bodyTimeouts)

      """
  }

  static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
  }

  private static func file(_ folder: String, _ name: String) -> Response {
    // Only plain names from the page's own folder: no path traversal.
    guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."),
      let data = FileManager.default.contents(atPath: "\(folder)/\(name)")
    else { return json(.notFound, Array(#"{"error":"no such file"}"#.utf8)) }
    let type =
      switch (name as NSString).pathExtension {
      case "html": "text/html; charset=utf-8"
      case "js": "text/javascript; charset=utf-8"
      case "css": "text/css; charset=utf-8"
      default: "application/octet-stream"
      }
    return Response(
      status: .ok, headers: [.contentType: type, .cacheControl: "no-store"],
      body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }
}

/// A refusal as the router answers it: the JSON error body (`IngestErrorBody`) with the
/// rejection's status, `Retry-After` on 503 and `WWW-Authenticate` on 401.
struct RejectionResponse: HTTPResponseError {
  let rejection: IngestRejection
  let retryAfterSeconds: Int

  var status: HTTPResponse.Status { HTTPResponse.Status(code: rejection.status) }

  func response(from request: Request, context: some RequestContext) throws -> Response {
    var response = IngestService.json(status, IngestJSON.encode(rejection.body))
    if rejection.status == 503 { response.headers[.retryAfter] = String(retryAfterSeconds) }
    if rejection.status == 401 { response.headers[.wwwAuthenticate] = "Bearer" }
    return response
  }
}

/// Bytes of one request body reserved against the memory budget; released when the request ends.
private struct BodyReservation {
  let memory: MemoryBudget
  private(set) var bytes = 0

  init(memory: MemoryBudget) {
    self.memory = memory
  }

  /// Reserves `more` bytes; false when the budget has no room for them.
  mutating func reserve(_ more: Int) -> Bool {
    // A large body may not take the last quarter of the budget: small requests from other
    // clients still fit while a few large ones (or bodies held open) fill the rest.
    let ceiling = bytes + more > memory.largeBytes ? memory.largeCeiling : memory.limit
    guard memory.reserve(more, ceiling: ceiling) else { return false }
    bytes += more
    return true
  }

  /// Gives every reserved byte back.
  mutating func release() {
    memory.release(bytes)
    bytes = 0
  }
}
