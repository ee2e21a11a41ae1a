import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// An element of an S3 XML response: S3's answers are small documents of nested elements holding text.
struct S3XML: Sendable {
  /// The element's name without namespace prefix.
  var name: String
  /// The element's own text (character data and CDATA), untrimmed.
  var text: String = ""
  /// Child elements in document order.
  var children: [S3XML] = []

  /// The root element of `bytes`, or nil when they are not well-formed XML.
  init?(parsing bytes: [UInt8]) {
    let builder = Builder()
    let parser = XMLParser(data: Data(bytes))
    parser.delegate = builder
    guard parser.parse(), let root = builder.root else { return nil }
    self = root
  }

  init(name: String) { self.name = name }

  /// The first child named `name`.
  func child(_ name: String) -> S3XML? { children.first { $0.name == name } }

  /// Every child named `name`.
  func children(_ name: String) -> [S3XML] { children.filter { $0.name == name } }

  /// The text of the first child named `name`.
  func text(of name: String) -> String? { child(name)?.text }

  /// Builds the tree; used by one parse on one thread.
  private final class Builder: NSObject, XMLParserDelegate {
    var stack: [S3XML] = []
    var root: S3XML?

    func parser(
      _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
      attributes: [String: String] = [:]
    ) {
      stack.append(S3XML(name: elementName.split(separator: ":").last.map(String.init) ?? elementName))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
      if !stack.isEmpty { stack[stack.count - 1].text += string }
    }

    func parser(_ parser: XMLParser, foundCDATA block: Data) {
      if !stack.isEmpty { stack[stack.count - 1].text += String(decoding: block, as: UTF8.self) }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
      guard let element = stack.popLast() else { return }
      if stack.isEmpty {
        root = element
      } else {
        stack[stack.count - 1].children.append(element)
      }
    }
  }
}

/// The parts of S3's XML answers that the storage reads.
enum S3Response {
  /// An S3 error document: `<Error><Code>…</Code><Message>…</Message></Error>`.
  struct ErrorDocument: Sendable, Equatable {
    var code: String
    var message: String

    /// The error in `body`, or nil when `body` is not an S3 error document.
    init?(_ body: [UInt8]) {
      guard let root = S3XML(parsing: body), root.name == "Error" else { return nil }
      code = root.text(of: "Code") ?? ""
      message = root.text(of: "Message") ?? ""
    }
  }

  /// One page of a ListObjectsV2 answer.
  struct ListPage: Sendable {
    var objects: [(key: String, size: Int, lastModified: Date?)]
    var nextContinuationToken: String?

    /// The page in `body`, or nil when it is not a `ListBucketResult`.
    init?(_ body: [UInt8]) {
      guard let root = S3XML(parsing: body), root.name == "ListBucketResult" else { return nil }
      // Keys come URL-encoded when the request asked for `encoding-type=url` and the server
      // honoured it (it says so); that keeps keys with characters XML 1.0 cannot carry intact.
      let encoded = root.text(of: "EncodingType")?.lowercased() == "url"
      var objects: [(key: String, size: Int, lastModified: Date?)] = []
      for entry in root.children("Contents") {
        guard let rawKey = entry.text(of: "Key"), let size = entry.text(of: "Size").flatMap({ Int($0) }) else {
          return nil
        }
        let lastModified = entry.text(of: "LastModified").flatMap(Self.timestamp)
        objects.append((encoded ? Self.formDecoded(rawKey) : rawKey, size, lastModified))
      }
      self.objects = objects
      let truncated = root.text(of: "IsTruncated")?.lowercased() == "true"
      nextContinuationToken = truncated ? root.text(of: "NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 } : nil
    }

    /// An ISO 8601 time as S3 writes it (`2024-05-01T12:00:00.000Z`); servers that leave out
    /// the fractional seconds are read too.
    static func timestamp(_ text: String) -> Date? {
      let trimmed = text.trimmingCharacters(in: .whitespaces)
      if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(trimmed) { return date }
      return try? Date.ISO8601FormatStyle().parse(trimmed)
    }

    /// `+` as space and `%XX` as a byte: how S3 URL-encodes keys in listings.
    static func formDecoded(_ text: String) -> String {
      SignatureV4.percentDecoded(text.replacingOccurrences(of: "+", with: " "))
    }
  }

  /// The upload id in an `InitiateMultipartUploadResult`.
  static func uploadID(_ body: [UInt8]) -> String? {
    guard let root = S3XML(parsing: body), root.name == "InitiateMultipartUploadResult" else { return nil }
    return root.text(of: "UploadId").flatMap { $0.isEmpty ? nil : $0 }
  }

  /// The `CompleteMultipartUpload` request body.
  static func completeMultipartUpload(eTags: [String]) -> [UInt8] {
    var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    for (index, eTag) in eTags.enumerated() {
      xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(escaped(eTag))</ETag></Part>"
    }
    xml += "</CompleteMultipartUpload>"
    return Array(xml.utf8)
  }

  /// `text` with XML's special characters escaped.
  static func escaped(_ text: String) -> String {
    var out = ""
    for character in text {
      switch character {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      default: out.append(character)
      }
    }
    return out
  }
}
