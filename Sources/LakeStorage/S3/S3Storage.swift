import AsyncHTTPClient
import Foundation

/// Lake storage in an S3 bucket (AWS or an S3-compatible server), signed with our SignatureV4.
///
/// Objects up to `multipartThreshold` bytes are stored with one PUT; larger ones with a multipart
/// upload, aborted if any part fails, so a reader never sees a partial object on either path.
public struct S3Storage: LakeStorage {
  /// The bucket, prefix, endpoint and credentials.
  public let configuration: S3Configuration
  /// Objects larger than this many bytes are uploaded in parts.
  public var multipartThreshold: Int
  /// The size of each part but the last (S3 requires at least 5 MiB).
  public var partSize: Int
  /// Parts uploaded at once.
  public var partConcurrency: Int
  /// Attempts of an idempotent request that meets a 5xx answer or a dropped connection.
  public var attempts: Int
  private let client: HTTPClient

  /// A storage over `client` (by default one shared by the process that fails fast when the
  /// server cannot be reached: `HTTPClient.shared` retries connecting until the request's deadline).
  public init(
    configuration: S3Configuration, client: HTTPClient? = nil, multipartThreshold: Int = 16 << 20,
    partSize: Int = 8 << 20, partConcurrency: Int = 4, attempts: Int = 3
  ) {
    self.configuration = configuration
    self.client = client ?? Self.sharedClient
    self.multipartThreshold = multipartThreshold
    self.partSize = max(partSize, 5 << 20)
    self.partConcurrency = max(partConcurrency, 1)
    self.attempts = max(attempts, 1)
  }

  public var location: String { configuration.location.description }

  public func put(_ key: String, bytes: [UInt8]) async throws(StorageError) {
    let objectKey = configuration.location.objectKey(key)
    if bytes.count > multipartThreshold {
      try await putInParts(key: key, objectKey: objectKey, bytes: bytes)
      return
    }
    let response = try await send(
      "PUT", objectKey: objectKey, body: bytes[...], operation: "storing \(key)", idempotent: true)
    try check(response, key: key, operation: "storing \(key)")
  }

  public func create(_ key: String, bytes: [UInt8]) async throws(StorageError) -> Bool {
    // S3's conditional write: If-None-Match: * makes the PUT fail with 412 when the key exists.
    let operation = "creating \(key)"
    let response = try await send(
      "PUT", objectKey: configuration.location.objectKey(key), headers: [("If-None-Match", "*")], body: bytes[...],
      operation: operation, idempotent: true)
    if response.status == 412 || response.status == 409 {
      // A retried request may find the object its first attempt wrote: ours if the bytes match.
      return (try? await get(key)) == bytes && response.retried
    }
    try check(response, key: key, operation: operation)
    return true
  }

  public func get(_ key: String) async throws(StorageError) -> [UInt8] {
    let response = try await send(
      "GET", objectKey: configuration.location.objectKey(key), operation: "reading \(key)", idempotent: true)
    try check(response, key: key, operation: "reading \(key)")
    return response.body
  }

  public func list(prefix: String) async throws(StorageError) -> [StoredObject] {
    let location = configuration.location
    let objectPrefix = location.prefix.isEmpty ? prefix : "\(location.prefix)/\(prefix)"
    var objects: [StoredObject] = []
    var token: String?
    repeat {
      var query: [(name: String, value: String)] = [
        ("list-type", "2"), ("prefix", objectPrefix), ("encoding-type", "url"),
      ]
      if let token { query.append(("continuation-token", token)) }
      let operation = "listing \(prefix.isEmpty ? "the lake" : prefix)"
      let response = try await send("GET", objectKey: nil, query: query, operation: operation, idempotent: true)
      try check(response, key: nil, operation: operation)
      guard let page = S3Response.ListPage(response.body) else {
        throw .failed(location: self.location, operation: operation, reason: "the server's answer is not a listing")
      }
      for object in page.objects {
        if let key = location.lakeKey(object.key) {
          objects.append(StoredObject(key: key, size: object.size, lastModified: object.lastModified))
        }
      }
      token = page.nextContinuationToken
    } while token != nil
    return objects.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
  }

  public func delete(_ key: String) async throws(StorageError) {
    let response = try await send(
      "DELETE", objectKey: configuration.location.objectKey(key), operation: "removing \(key)", idempotent: true)
    // Some S3-compatible servers answer 404 for a missing key where AWS answers 204.
    if response.status == 404 { return }
    try check(response, key: key, operation: "removing \(key)")
  }

  /// Creates the bucket unless it exists already (and is ours).
  public func createBucket() async throws(StorageError) {
    let region = configuration.region
    // Outside us-east-1, AWS wants the region in the body as well.
    let body =
      region == "us-east-1"
      ? [UInt8]()
      : Array(
        ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
          + "\(S3Response.escaped(region))</LocationConstraint></CreateBucketConfiguration>").utf8)
    let operation = "creating bucket \(configuration.location.bucket)"
    let response = try await send("PUT", objectKey: nil, body: body[...], operation: operation, idempotent: true)
    if response.status == 409, S3Response.ErrorDocument(response.body)?.code == "BucketAlreadyOwnedByYou" { return }
    try check(response, key: nil, operation: operation)
  }

  /// The size and ETag of the object under `key` (a multipart object's ETag ends in `-<parts>`).
  func head(_ key: String) async throws(StorageError) -> (size: Int, eTag: String) {
    let response = try await send(
      "HEAD", objectKey: configuration.location.objectKey(key), operation: "reading \(key)", idempotent: true)
    try check(response, key: key, operation: "reading \(key)")
    return (Int(response.headers["content-length"] ?? "") ?? 0, response.headers["etag"] ?? "")
  }

  // MARK: Multipart upload

  private func putInParts(key: String, objectKey: String, bytes: [UInt8]) async throws(StorageError) {
    let operation = "storing \(key)"
    let created = try await send(
      "POST", objectKey: objectKey, query: [("uploads", "")], operation: operation, idempotent: false)
    try check(created, key: key, operation: operation)
    guard let uploadID = S3Response.uploadID(created.body) else {
      throw .failed(location: location, operation: operation, reason: "the server started no multipart upload")
    }
    do throws(StorageError) {
      let eTags = try await uploadParts(objectKey: objectKey, uploadID: uploadID, bytes: bytes, operation: operation)
      let completed = try await send(
        "POST", objectKey: objectKey, query: [("uploadId", uploadID)],
        body: S3Response.completeMultipartUpload(eTags: eTags)[...], operation: operation, idempotent: false)
      try check(completed, key: key, operation: operation)
      // S3 may answer 200 and still report a failure in the body (it has started writing by then).
      if let error = S3Response.ErrorDocument(completed.body) {
        throw failure(status: 200, error: error, key: key, operation: operation)
      }
    } catch {
      // Free the parts stored so far; the original failure is what the caller needs to see.
      _ = try? await send(
        "DELETE", objectKey: objectKey, query: [("uploadId", uploadID)], operation: operation, idempotent: true)
      throw error
    }
  }

  /// Uploads `bytes` in parts, `partConcurrency` at a time; the ETags in part order.
  private func uploadParts(
    objectKey: String, uploadID: String, bytes: [UInt8], operation: String
  ) async throws(StorageError) -> [String] {
    let ranges = stride(from: 0, to: bytes.count, by: partSize).map { $0..<min($0 + partSize, bytes.count) }
    var eTags = [String](repeating: "", count: ranges.count)
    let result: Result<Void, StorageError> = await withTaskGroup(of: Result<(Int, String), StorageError>.self) {
      group in
      var next = 0
      func startNext() {
        let index = next
        next += 1
        group.addTask { () -> Result<(Int, String), StorageError> in
          do throws(StorageError) {
            let response = try await send(
              "PUT", objectKey: objectKey, query: [("partNumber", "\(index + 1)"), ("uploadId", uploadID)],
              body: bytes[ranges[index]], operation: operation, idempotent: true)
            try check(response, key: nil, operation: operation)
            guard let eTag = response.headers["etag"] else {
              throw .failed(
                location: location, operation: operation, reason: "part \(index + 1) came back without an ETag")
            }
            return .success((index, eTag))
          } catch {
            return .failure(error)
          }
        }
      }
      while next < min(partConcurrency, ranges.count) { startNext() }
      for await outcome in group {
        switch outcome {
        case .success(let (index, eTag)):
          eTags[index] = eTag
          if next < ranges.count { startNext() }
        case .failure(let error):
          group.cancelAll()
          return .failure(error)
        }
      }
      return .success(())
    }
    try result.get()
    return eTags
  }

  // MARK: Requests

  /// What the storage keeps of an HTTP response.
  struct Response: Sendable {
    var status: Int
    /// Header values by lower-case name (the first of a repeated header).
    var headers: [String: String]
    var body: [UInt8]
    /// Whether an earlier attempt of the same request was sent (and may have been applied).
    var retried = false
  }

  /// Signs and sends one request; retries an idempotent one after a 5xx answer or a dropped connection.
  func send(
    _ method: String, objectKey: String?, query: [(name: String, value: String)] = [],
    headers: [(name: String, value: String)] = [], body: ArraySlice<UInt8> = [], operation: String, idempotent: Bool
  ) async throws(StorageError) -> Response {
    var attempt = 1
    while true {
      do {
        var response = try await sendOnce(method, objectKey: objectKey, query: query, headers: headers, body: body)
        response.retried = attempt > 1
        if response.status >= 500, idempotent, attempt < attempts {
          await backOff(attempt)
          attempt += 1
          continue
        }
        return response
      } catch {
        let kind = TransportFailure(error)
        if kind == .dropped, idempotent, attempt < attempts {
          await backOff(attempt)
          attempt += 1
          continue
        }
        throw transportError(error, kind: kind, operation: operation)
      }
    }
  }

  private func sendOnce(
    _ method: String, objectKey: String?, query: [(name: String, value: String)],
    headers extraHeaders: [(name: String, value: String)], body: ArraySlice<UInt8>
  ) async throws -> Response {
    let target = configuration.target(objectKey: objectKey)
    let signer = SignatureV4(
      accessKeyID: configuration.accessKeyID, secretAccessKey: configuration.secretAccessKey,
      sessionToken: configuration.sessionToken, region: configuration.region, service: "s3")
    let payloadHash = body.isEmpty ? SignatureV4.emptyPayloadHash : SignatureV4.payloadHash(body)
    let signed = signer.sign(
      .init(
        method: method, path: target.path, query: query, headers: [("Host", target.host)] + extraHeaders,
        payloadHash: payloadHash),
      date: Date(), contentSHA256Header: true)

    var request = HTTPClientRequest(
      url: signed.queryString.isEmpty ? target.url : "\(target.url)?\(signed.queryString)")
    switch method {
    case "GET": request.method = .GET
    case "PUT": request.method = .PUT
    case "POST": request.method = .POST
    case "DELETE": request.method = .DELETE
    case "HEAD": request.method = .HEAD
    default: request.method = .RAW(value: method)
    }
    request.headers.add(name: "Host", value: target.host)
    for header in extraHeaders { request.headers.add(name: header.name, value: header.value) }
    for header in signed.headers { request.headers.add(name: header.name, value: header.value) }
    if !body.isEmpty || method == "PUT" || method == "POST" {
      request.body = .bytes(body)
    }
    // Generous for big bodies on slow links, short enough that a hung server is reported.
    let timeout = 30 + body.count / (256 << 10)
    let response = try await client.execute(request, timeout: .seconds(Int64(timeout)))
    var headers: [String: String] = [:]
    for (name, value) in response.headers where headers[name.lowercased()] == nil {
      headers[name.lowercased()] = value
    }
    let bytes = method == "HEAD" ? [] : Array((try await response.body.collect(upTo: .max)).readableBytesView)
    return Response(status: Int(response.status.code), headers: headers, body: bytes)
  }

  private func backOff(_ attempt: Int) async {
    // 0.2 s, then 0.8 s: long enough for a restarting gateway, short enough for a command line.
    try? await Task.sleep(for: .milliseconds(200 << (2 * (attempt - 1))))
  }

  // MARK: Errors

  /// Throws unless `response` is a success (2xx).
  private func check(_ response: Response, key: String?, operation: String) throws(StorageError) {
    guard !(200..<300).contains(response.status) else { return }
    let error = S3Response.ErrorDocument(response.body)
    throw failure(status: response.status, error: error, key: key, operation: operation)
  }

  /// The storage error for an S3 error answer, worded for the person running the command.
  func failure(status: Int, error: S3Response.ErrorDocument?, key: String?, operation: String) -> StorageError {
    let code = error?.code ?? ""
    let keyID = configuration.accessKeyID
    let detail = error.map { $0.message.isEmpty ? "" : ": \($0.message)" } ?? ""
    switch code {
    case "SignatureDoesNotMatch":
      return .accessDenied(
        location: location,
        reason: "the S3 server rejected the request signature: the secret access key does not match the access "
          + "key id \(keyID) (SignatureDoesNotMatch); check AWS_SECRET_ACCESS_KEY")
    case "InvalidAccessKeyId":
      return .accessDenied(
        location: location,
        reason: "the S3 server does not know the access key id \(keyID) (InvalidAccessKeyId); check AWS_ACCESS_KEY_ID")
    case "AccessDenied":
      return .accessDenied(
        location: location, reason: "the access key id \(keyID) may not do this: \(operation) (AccessDenied\(detail))")
    case "RequestTimeTooSkewed":
      return .accessDenied(
        location: location,
        reason: "this machine's clock differs from the S3 server's by more than 15 minutes (RequestTimeTooSkewed)")
    case "ExpiredToken", "InvalidToken":
      return .accessDenied(
        location: location, reason: "the session token was refused (\(code)\(detail)); renew AWS_SESSION_TOKEN")
    case "NoSuchBucket":
      return .failed(
        location: location, operation: operation,
        reason: "the bucket \(configuration.location.bucket) does not exist (NoSuchBucket)")
    default:
      if status == 404, let key, code.isEmpty || code == "NoSuchKey" {
        return .notFound(key: key, location: location)
      }
      if status == 403 {
        return .accessDenied(location: location, reason: "HTTP 403 \(code.isEmpty ? "Forbidden" : code)\(detail)")
      }
      return .failed(
        location: location, operation: operation, reason: "HTTP \(status)\(code.isEmpty ? "" : " \(code)")\(detail)")
    }
  }

  /// How a request failed to get an answer.
  enum TransportFailure: Equatable {
    /// Nothing listens there, or the name does not resolve: trying again at once will not help.
    case unreachable
    /// An established connection broke or timed out: worth another try for an idempotent request.
    case dropped
    case other

    init(_ error: any Error) {
      if let error = error as? HTTPClientError {
        if error == .remoteConnectionClosed {
          self = .dropped
          return
        }
        if error == .connectTimeout {
          self = .unreachable
          return
        }
      }
      // NIO's connection errors carry the errno text; matching it avoids depending on NIO directly.
      // A refused connect reads "connection reset (error set): Connection refused", so "refused"
      // is looked for before "reset".
      let text = String(describing: error).lowercased()
      let unreachable = [
        "refused", "name or service not known", "nodename nor servname", "no address", "could not resolve",
        "network is unreachable", "host is unreachable", "no route to host",
      ]
      if unreachable.contains(where: text.contains) {
        self = .unreachable
      } else if ["reset", "broken pipe", "connection closed", "eof"].contains(where: text.contains) {
        self = .dropped
      } else {
        self = .other
      }
    }
  }

  private func transportError(_ error: any Error, kind: TransportFailure, operation: String) -> StorageError {
    switch kind {
    case .unreachable:
      // NIO words a refused connect "connection reset (error set): Connection refused": say it plainly.
      let text = "\(error)"
      let reason = text.lowercased().contains("refused") ? "connection refused (no server listens there)" : text
      return .unreachable(location: "\(location) at \(configuration.endpoint)", reason: reason)
    case .dropped, .other:
      return .failed(location: location, operation: operation, reason: "\(error)")
    }
  }

  /// The process's HTTP client for S3: fails a request at once when no connection can be made.
  static let sharedClient: HTTPClient = {
    var configuration = HTTPClient.Configuration.singletonConfiguration
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.timeout.connect = .seconds(10)
    // Objects are bytes: one stored with Content-Encoding gzip must come back as stored.
    configuration.decompression = .disabled
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
  }()
}
