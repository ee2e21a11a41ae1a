import Foundation

/// Where and as whom to reach an S3 lake: the location, the endpoint, the region and the credentials.
public struct S3Configuration: Sendable {
  /// How the bucket appears in request URLs.
  public enum Addressing: Sendable, Equatable {
    /// `https://endpoint/bucket/key`: what S3-compatible servers (SeaweedFS, MinIO) expect.
    case path
    /// `https://bucket.endpoint/key`: what AWS expects.
    case virtualHost
  }

  /// The bucket and prefix.
  public var location: S3Location
  /// The endpoint URL without a trailing slash, such as `https://s3.us-east-1.amazonaws.com`.
  public var endpoint: String
  /// The region requests are signed for.
  public var region: String
  /// The access key id.
  public var accessKeyID: String
  /// The secret access key.
  public var secretAccessKey: String
  /// The session token of temporary credentials.
  public var sessionToken: String?
  /// Path-style or virtual-host-style URLs.
  public var addressing: Addressing

  /// A configuration from explicit settings.
  public init(
    location: S3Location, endpoint: String, region: String, accessKeyID: String, secretAccessKey: String,
    sessionToken: String? = nil, addressing: Addressing = .path
  ) {
    self.location = location
    self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
    self.region = region
    self.accessKeyID = accessKeyID
    self.secretAccessKey = secretAccessKey
    self.sessionToken = sessionToken
    self.addressing = addressing
  }

  /// The settings for `location` (`s3://bucket/prefix`): each given argument first, then the
  /// environment (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_DEFAULT_REGION`,
  /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), then AWS's defaults.
  ///
  /// With an endpoint given the server is taken for an S3-compatible one and addressed path-style,
  /// unless `pathStyle` says otherwise; AWS itself is addressed virtual-host style.
  public static func resolve(
    location: String, endpoint: String? = nil, region: String? = nil, accessKeyID: String? = nil,
    secretAccessKey: String? = nil, sessionToken: String? = nil, pathStyle: Bool? = nil,
    environment: [String: String]
  ) throws(StorageError) -> S3Configuration {
    func setting(_ given: String?, _ names: String...) -> String? {
      if let given, !given.isEmpty { return given }
      return names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
    }
    let parsed = try S3Location(parsing: location)
    let region = setting(region, "AWS_REGION", "AWS_DEFAULT_REGION") ?? "us-east-1"
    let givenEndpoint = setting(endpoint, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
    let endpoint = givenEndpoint ?? "https://s3.\(region).amazonaws.com"
    try validateEndpoint(endpoint)

    // A key id given as an argument is never paired with a session token from the environment:
    // the token belongs to the environment's key.
    let keyGiven = !(accessKeyID ?? "").isEmpty
    let keyID = setting(accessKeyID, "AWS_ACCESS_KEY_ID")
    let secret =
      keyGiven ? secretAccessKey.flatMap { $0.isEmpty ? nil : $0 } : setting(secretAccessKey, "AWS_SECRET_ACCESS_KEY")
    let token = keyGiven ? sessionToken.flatMap { $0.isEmpty ? nil : $0 } : setting(sessionToken, "AWS_SESSION_TOKEN")
    guard let keyID, let secret else {
      let missing = [keyID == nil ? "AWS_ACCESS_KEY_ID" : nil, secret == nil ? "AWS_SECRET_ACCESS_KEY" : nil]
        .compactMap { $0 }.joined(separator: " and ")
      throw .invalidConfiguration(
        "no S3 credentials for \(parsed): set \(missing) (and AWS_SESSION_TOKEN for temporary credentials), "
          + "or give the access key id and secret access key as options")
    }
    var addressing: Addressing = (pathStyle ?? (givenEndpoint != nil)) ? .path : .virtualHost
    // A dotted bucket name does not match AWS's wildcard TLS certificate as a host name.
    if addressing == .virtualHost && parsed.bucket.contains(".") { addressing = .path }
    return S3Configuration(
      location: parsed, endpoint: endpoint, region: region, accessKeyID: keyID, secretAccessKey: secret,
      sessionToken: token, addressing: addressing)
  }

  /// Throws unless `endpoint` is an `http` or `https` URL with a host and nothing after it.
  static func validateEndpoint(_ endpoint: String) throws(StorageError) {
    guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
      components.path.isEmpty || components.path == "/", components.query == nil
    else {
      throw .invalidConfiguration(
        "\(endpoint) is not an S3 endpoint: write it http://host:port or https://host (no path)")
    }
  }

  /// The URL (without query), `Host` header and path of a request for `objectKey` (nil: the bucket).
  func target(objectKey: String?) -> (url: String, host: String, path: String) {
    let components = URLComponents(string: endpoint)!
    let scheme = components.scheme!.lowercased()
    var host = components.host!
    if host.contains(":") { host = "[\(host)]" }  // an IPv6 address
    if let port = components.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
      host += ":\(port)"
    }
    var path = objectKey.map { "/" + SignatureV4.uriEncodePath($0) } ?? "/"
    switch addressing {
    case .path:
      path = objectKey == nil ? "/\(location.bucket)" : "/\(location.bucket)\(path)"
    case .virtualHost:
      host = "\(location.bucket).\(host)"
    }
    return ("\(scheme)://\(host)\(path)", host, path)
  }
}
