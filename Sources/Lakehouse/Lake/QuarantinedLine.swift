import Crypto
import Foundation

/// A line that was read but not accepted, with where it came from.
///
/// Only the first `keptBytes` of a line are kept: a garbage line of any length then costs a few
/// kilobytes of quarantine, plus its full length and SHA-256 to identify it.
public struct QuarantinedLine: Sendable, Hashable {
  /// How much of a line is kept in `raw`: far more than any valid record needs.
  public static let keptBytes = 4096

  /// The file, relative to the lake root.
  public var sourceFile: String
  /// The 1-based line number within the file (0 for an entry about the whole file).
  public var line: Int
  public var reason: QuarantineReason
  public var detail: String
  /// The line's bytes as read, without the newline: all of them, or the first `keptBytes`.
  public var raw: [UInt8]
  /// The length of the whole line in bytes.
  public var rawLength: Int
  /// The SHA-256 of the whole line in hex, when `raw` holds only its beginning.
  public var rawSha256: String?

  /// An entry for `raw`, the whole line; only its beginning is kept when it is long.
  public init(sourceFile: String, line: Int, reason: QuarantineReason, detail: String, raw: [UInt8]) {
    let excerpt = raw.withUnsafeBufferPointer { Excerpt($0) }
    self.init(sourceFile: sourceFile, line: line, reason: reason, detail: detail, excerpt: excerpt)
  }

  init(sourceFile: String, line: Int, reason: QuarantineReason, detail: String, excerpt: Excerpt) {
    self.sourceFile = sourceFile
    self.line = line
    self.reason = reason
    self.detail = detail
    self.raw = excerpt.kept
    self.rawLength = excerpt.length
    self.rawSha256 = excerpt.sha256
  }

  /// Whether `raw` holds only the beginning of the line.
  public var rawTruncated: Bool { rawSha256 != nil }

  /// Drops the line's contents and detail (which may quote them), keeping where it was and why.
  public mutating func withholdContents() {
    raw = []
    // A digest of a line naming an erased customer would confirm a guess of the whole line.
    rawSha256 = nil
    detail = "contents withheld: the line names an erased customer"
  }

  /// Renders the entry as one quarantine NDJSON line; bytes that are not UTF-8 are kept in `rawBase64`.
  public func render(into buffer: inout NDJSONBuffer) {
    buffer.beginObject()
    buffer.field("sourceFile", sourceFile)
    buffer.field("line", line)
    buffer.field("reason", reason.rawValue)
    buffer.field("detail", detail)
    let text = String(validating: raw, as: UTF8.self)
    buffer.field("raw", text ?? String(decoding: raw, as: UTF8.self))
    if text == nil { buffer.field("rawBase64", Data(raw).base64EncodedString()) }
    if let rawSha256 {
      buffer.field("rawTruncated", true)
      buffer.field("rawLength", rawLength)
      buffer.field("rawSha256", rawSha256)
    }
    buffer.endObject()
  }

  /// The kept beginning of a line, with the whole line's length and, when cut, its digest.
  struct Excerpt: Sendable {
    var kept: [UInt8]
    var length: Int
    var sha256: String?

    init(_ line: UnsafeBufferPointer<UInt8>) {
      length = line.count
      guard line.count > QuarantinedLine.keptBytes else {
        kept = Array(line)
        sha256 = nil
        return
      }
      // Cut before a UTF-8 continuation byte, so a text line stays text (and needs no rawBase64).
      var cut = QuarantinedLine.keptBytes
      while cut > QuarantinedLine.keptBytes - 3, line[cut] & 0xC0 == 0x80 { cut -= 1 }
      kept = Array(line[0..<cut])
      sha256 = SHA256.hash(data: UnsafeRawBufferPointer(line)).map { byte in
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
      }.joined()
    }
  }
}
