import Crypto
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// AWS Signature Version 4 (header form, `AWS4-HMAC-SHA256`): signs one HTTP request.
///
/// Written from AWS's specification ("Create a signed AWS API request") and checked against AWS's
/// published SigV4 test suite and the S3 documentation's examples (SignatureV4Tests). Kept to
/// what a client needs: no presigned URLs, no chunked (streaming) payload signing.
public struct SignatureV4: Sendable {
  /// How the request path becomes the canonical URI.
  public enum PathCanonicalization: Sendable {
    /// S3: the path as sent, each segment URI-encoded once; never normalized, since `a//b` and
    /// `a/./b` are distinct object keys.
    case s3
    /// Every other service: `.`/`..` segments and repeated slashes removed, then the (already
    /// encoded) path URI-encoded a second time.
    case normalizedAndEncodedTwice
  }

  /// The request to sign. Names and values are as the server will receive them.
  public struct Request: Sendable {
    /// The HTTP method, upper case.
    public var method: String
    /// The path as it appears in the request line: segments URI-encoded (for S3 use
    /// `SignatureV4.uriEncodePath(_:)` on the object key), or raw characters, which are encoded here.
    public var path: String
    /// Query parameters, not encoded (`("list-type", "2")`); a flag parameter has an empty value.
    public var query: [(name: String, value: String)]
    /// Headers to sign; `host` is required. Repeated names are joined with commas in order.
    public var headers: [(name: String, value: String)]
    /// The payload's SHA-256 in lower-case hex, or `UNSIGNED-PAYLOAD`.
    public var payloadHash: String

    /// A request to sign.
    public init(
      method: String, path: String, query: [(name: String, value: String)] = [],
      headers: [(name: String, value: String)], payloadHash: String = SignatureV4.emptyPayloadHash
    ) {
      self.method = method
      self.path = path
      self.query = query
      self.headers = headers
      self.payloadHash = payloadHash
    }
  }

  /// A signed request: the headers to add, and the intermediate strings (for tests and debugging).
  public struct Signed: Sendable {
    /// Headers to add to the request: `X-Amz-Date`, `X-Amz-Content-Sha256` and
    /// `X-Amz-Security-Token` when used, and `Authorization`.
    public var headers: [(name: String, value: String)]
    /// The canonical request (step 1 of the specification).
    public var canonicalRequest: String
    /// The string to sign (step 2).
    public var stringToSign: String
    /// The signature, lower-case hex.
    public var signature: String
    /// The `Authorization` header value.
    public var authorization: String
    /// The query string to send: the canonical one (encoded and sorted).
    public var queryString: String
  }

  /// SHA-256 of an empty payload, in hex.
  public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

  /// The access key id (`AKIA…`); not secret, it names the key.
  public var accessKeyID: String
  /// The secret access key.
  public var secretAccessKey: String
  /// The session token of temporary credentials, sent as `X-Amz-Security-Token`.
  public var sessionToken: String?
  /// The region, such as `us-east-1`.
  public var region: String
  /// The service name in the credential scope: `s3`.
  public var service: String
  /// How the path is canonicalized; `.s3` for service `s3`, else the general rule.
  public var pathCanonicalization: PathCanonicalization
  /// Whether `X-Amz-Security-Token` is signed (S3 and most services) or only added afterwards.
  public var signsSessionToken: Bool

  /// A signer for one set of credentials, region and service.
  public init(
    accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, region: String,
    service: String = "s3", pathCanonicalization: PathCanonicalization? = nil, signsSessionToken: Bool = true
  ) {
    self.accessKeyID = accessKeyID
    self.secretAccessKey = secretAccessKey
    self.sessionToken = sessionToken
    self.region = region
    self.service = service
    self.pathCanonicalization = pathCanonicalization ?? (service == "s3" ? .s3 : .normalizedAndEncodedTwice)
    self.signsSessionToken = signsSessionToken
  }

  /// Signs `request` as made at `date`. With `contentSHA256Header` (S3 requires it) the payload
  /// hash is also sent and signed as `X-Amz-Content-Sha256`.
  public func sign(_ request: Request, date: Date, contentSHA256Header: Bool = false) -> Signed {
    let (amzDate, day) = Self.timestamps(date)
    var added: [(name: String, value: String)] = [("X-Amz-Date", amzDate)]
    if contentSHA256Header { added.append(("X-Amz-Content-Sha256", request.payloadHash)) }
    var unsignedToken: [(name: String, value: String)] = []
    if let sessionToken {
      if signsSessionToken {
        added.append(("X-Amz-Security-Token", sessionToken))
      } else {
        unsignedToken.append(("X-Amz-Security-Token", sessionToken))
      }
    }

    // Canonical headers: lower-case names, sorted; values trimmed with inner runs of spaces
    // collapsed; a repeated name's values joined with commas in the order given.
    var values: [String: [String]] = [:]
    for (name, value) in request.headers + added {
      values[name.lowercased(), default: []].append(Self.canonicalHeaderValue(value))
    }
    let names = values.keys.sorted()
    let canonicalHeaders = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
    let signedHeaders = names.joined(separator: ";")

    let queryString = Self.canonicalQuery(request.query)
    let canonicalRequest = [
      request.method, canonicalURI(request.path), queryString, canonicalHeaders, signedHeaders, request.payloadHash,
    ].joined(separator: "\n")

    let scope = "\(day)/\(region)/\(service)/aws4_request"
    let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))]
      .joined(separator: "\n")

    // The signing key is derived from the secret through the date, region and service, so a
    // leaked derived key is only good for one day, region and service.
    var key = SymmetricKey(data: Array("AWS4\(secretAccessKey)".utf8))
    for part in [day, region, service, "aws4_request"] {
      key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
    }
    let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    let authorization =
      "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    return Signed(
      headers: added + unsignedToken + [("Authorization", authorization)], canonicalRequest: canonicalRequest,
      stringToSign: stringToSign, signature: signature, authorization: authorization, queryString: queryString)
  }

  /// The canonical URI of a request path.
  public func canonicalURI(_ path: String) -> String {
    switch pathCanonicalization {
    case .s3:
      // Decode first so that a path given encoded and one given raw canonicalize alike, then
      // encode each segment exactly once.
      return Self.uriEncodePath(Self.percentDecoded(path))
    case .normalizedAndEncodedTwice:
      return Self.uriEncodePath(Self.normalized(path))
    }
  }

  /// URI-encodes a path the way SigV4 does: every byte but `A-Z a-z 0-9 - . _ ~` and `/` as `%XX`.
  public static func uriEncodePath(_ path: String) -> String {
    uriEncode(path, encodingSlash: false)
  }

  /// URI-encodes one query name or value (or a path segment): `/` is encoded too, space is `%20`.
  public static func uriEncode(_ text: String, encodingSlash: Bool = true) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count)
    let digits = Array("0123456789ABCDEF".utf8)
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
        UInt8(ascii: "~"):
        out.append(byte)
      case UInt8(ascii: "/") where !encodingSlash:
        out.append(byte)
      default:
        out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The canonical query string: names and values encoded, sorted by name, then by value.
  static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
    query.map { (uriEncode($0.name), uriEncode($0.value)) }
      .sorted {
        $0.0 != $1.0 ? $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) : $0.1.utf8.lexicographicallyPrecedes($1.1.utf8)
      }
      .map { "\($0.0)=\($0.1)" }
      .joined(separator: "&")
  }

  /// A header value trimmed, with each run of spaces (and tabs) inside it collapsed to one space.
  static func canonicalHeaderValue(_ value: String) -> String {
    value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
  }

  /// The path with `.` and `..` segments and repeated slashes removed (RFC 3986 section 5.2.4),
  /// keeping a trailing slash.
  static func normalized(_ path: String) -> String {
    var segments: [Substring] = []
    for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
      switch segment {
      case ".": continue
      case "..": _ = segments.popLast()
      default: segments.append(segment)
      }
    }
    let last = path.split(separator: "/", omittingEmptySubsequences: false).last
    let trailingSlash = path.hasSuffix("/") || last == "." || last == ".."
    let joined = "/" + segments.joined(separator: "/")
    return trailingSlash && !segments.isEmpty ? joined + "/" : joined
  }

  /// `%XX` escapes decoded; anything else (including a `%` not followed by two hex digits) kept.
  static func percentDecoded(_ text: String) -> String {
    let bytes = Array(text.utf8)
    guard bytes.contains(UInt8(ascii: "%")) else { return text }
    var out: [UInt8] = []
    var index = 0
    while index < bytes.count {
      if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
        let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
      {
        out.append(high << 4 | low)
        index += 3
      } else {
        out.append(bytes[index])
        index += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The value of a hex digit (either case), or nil for any other byte.
  static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }

  /// Lower-case hex of a digest or any bytes.
  static func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes { out += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
    return String(decoding: out, as: UTF8.self)
  }

  /// SHA-256 of `bytes` in lower-case hex, as the payload hash.
  public static func payloadHash(_ bytes: some DataProtocol) -> String {
    hex(SHA256.hash(data: bytes))
  }

  /// `20150830T123600Z` and `20150830` for `date`, in UTC.
  static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
    var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    let day = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))"
    return ("\(day)T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z", day)
  }
}
