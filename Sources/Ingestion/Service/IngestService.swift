import Foundation
import Hummingbird
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

  /// Settings; see each property for the defaults.
  public init(maxBodyBytes: Int = 16 << 20, retryAfterSeconds: Int = 1, phonePageFolder: String? = nil) {
    self.maxBodyBytes = maxBodyBytes
    self.retryAfterSeconds = retryAfterSeconds
    self.phonePageFolder = phonePageFolder
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
    for (path, source) in [
      ("/v1/step-trainer/readings", LandingSource.stepTrainer),
      ("/v1/accelerometer/readings", .accelerometer),
      ("/v1/customers", .customer),
    ] {
      router.post(RouterPath(path)) { request, _ in await self.ingest(request, source: source) }
    }
    router.get("/healthz") { _, _ in
      let buffered = await ingestor.bufferedBytes
      let landing = await ingestor.batchesLanding
      return Self.json(.ok, #"{"status":"ok","bufferedBytes":\#(buffered),"batchesLanding":\#(landing)}"#)
    }
    router.get("/metrics") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
    }
    if let folder = configuration.phonePageFolder {
      router.get("/phone") { _, _ in Self.file(folder, "index.html") }
      router.get("/phone/{file}") { _, context in Self.file(folder, context.parameters.get("file") ?? "") }
    }
    return router
  }

  private func ingest(_ request: Request, source: LandingSource) async -> Response {
    let started = ContinuousClock.now
    var request = request
    do {
      let token = try authenticate(request)
      try IngestBody.authoriseEndpoint(source: source, token: token)
      if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBodyBytes {
        throw tooLarge()
      }
      let body: ByteBuffer
      do {
        body = try await request.collectBody(upTo: configuration.maxBodyBytes)
      } catch is NIOTooManyBytesError {
        throw tooLarge()
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
      let refused = batch.refused > 0 ? #","refused":\#(batch.refused)"# : ""
      return Self.json(.accepted, #"{"accepted":\#(accepted)\#(refused)}"#)
    } catch let rejection as IngestRejection {
      return reject(rejection, path: request.uri.path)
    } catch {
      return reject(
        IngestRejection(status: 400, reason: "unreadable_body", message: "cannot read the request body: \(error)"),
        path: request.uri.path)
    }
  }

  private func authenticate(_ request: Request) throws(IngestRejection) -> AccessToken {
    do throws(TokenError) {
      guard let header = request.headers[.authorization] else { throw TokenError.missing }
      let parts = header.split(separator: " ", maxSplits: 1)
      guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw TokenError.missing }
      return try verified.claims(
        of: String(parts[1]).trimmingCharacters(in: .whitespaces), key: key, revocations: revocations)
    } catch {
      throw IngestRejection(status: 401, reason: error.reason, message: error.description)
    }
  }

  private func tooLarge() -> IngestRejection {
    IngestRejection(
      status: 413, reason: "too_large",
      message: "the body is larger than \(configuration.maxBodyBytes) bytes; send smaller batches")
  }

  private func reject(_ rejection: IngestRejection, path: String) -> Response {
    metrics.rejected(rejection.reason, status: rejection.status)
    // Never the token, and no record contents: logs must not carry credentials or personal data.
    logger.notice(
      "request rejected",
      metadata: [
        "path": "\(path)", "status": "\(rejection.status)", "reason": "\(rejection.reason)",
        "line": "\(rejection.line.map(String.init) ?? "-")", "field": "\(rejection.field ?? "-")",
      ])
    var response = Self.json(HTTPResponse.Status(code: rejection.status), rejection.json)
    if rejection.status == 503 { response.headers[.retryAfter] = String(configuration.retryAfterSeconds) }
    if rejection.status == 401 { response.headers[.wwwAuthenticate] = "Bearer" }
    return response
  }

  private static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
  }

  private static func file(_ folder: String, _ name: String) -> Response {
    // Only plain names from the page's own folder: no path traversal.
    guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."),
      let data = FileManager.default.contents(atPath: "\(folder)/\(name)")
    else { return json(.notFound, #"{"error":"no such file"}"#) }
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
