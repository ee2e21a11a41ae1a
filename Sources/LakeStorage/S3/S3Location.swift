/// A lake in S3: a bucket and a key prefix, written `s3://bucket/prefix`.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
  /// The bucket name.
  public var bucket: String
  /// The key prefix of the lake's objects, without leading or trailing `/`; empty for the whole bucket.
  public var prefix: String

  /// A location from its parts; slashes around the prefix are dropped.
  public init(bucket: String, prefix: String = "") {
    self.bucket = bucket
    self.prefix = prefix.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
  }

  /// Parses `s3://bucket` or `s3://bucket/prefix`.
  public init(parsing text: String) throws(StorageError) {
    guard text.hasPrefix("s3://") else {
      throw .invalidConfiguration("\(text) is not an S3 location: write it s3://bucket or s3://bucket/prefix")
    }
    let rest = text.dropFirst("s3://".count)
    let bucket = String(rest.prefix { $0 != "/" })
    guard Self.isValidBucketName(bucket) else {
      throw .invalidConfiguration(
        "\(text): \"\(bucket)\" is not a valid bucket name (3 to 63 characters: lower-case letters, digits, "
          + "'.' and '-', starting and ending with a letter or digit)")
    }
    self.init(bucket: bucket, prefix: String(rest.dropFirst(bucket.count)))
  }

  /// `s3://bucket/prefix`.
  public var description: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }

  /// The S3 object key of a lake key.
  func objectKey(_ lakeKey: String) -> String {
    prefix.isEmpty ? lakeKey : "\(prefix)/\(lakeKey)"
  }

  /// The lake key of an S3 object key under the prefix, or nil for one outside it.
  func lakeKey(_ objectKey: String) -> String? {
    if prefix.isEmpty { return objectKey }
    let start = "\(prefix)/"
    guard objectKey.hasPrefix(start) else { return nil }
    return String(objectKey.dropFirst(start.count))
  }

  /// The bucket naming rules of AWS (general purpose buckets), which S3-compatible servers follow.
  static func isValidBucketName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard (3...63).contains(bytes.count) else { return false }
    func isLetterOrDigit(_ byte: UInt8) -> Bool {
      (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
    guard isLetterOrDigit(bytes.first!), isLetterOrDigit(bytes.last!) else { return false }
    return bytes.allSatisfy { isLetterOrDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
  }
}
