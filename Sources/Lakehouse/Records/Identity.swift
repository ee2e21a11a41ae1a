import Foundation

/// The one form in which a customer's email or a device's serial number is compared or hashed.
///
/// Canonical form: surrounding white space trimmed, letters lower-cased (Unicode's full
/// lower-case mapping), then Unicode NFC. So `Élise@X.com `, `élise@x.com` and `e\u{301}lise@x.com`
/// are one customer everywhere: the pipeline's joins and current-record rule, tokens, the erasure
/// list and its text screen, the audit, and the ingest service's guard.
///
/// Why fold case: mail systems deliver to an address whatever its case, and the same person types
/// it differently on the phone and on the website. Treating the spellings as one customer means a
/// later record without consent withdraws consent under every spelling, and erasing one spelling
/// erases all; treating them as two would let data of a customer who withdrew or was erased pass
/// under another spelling. Serial numbers are UUIDs, whose case carries no meaning either.
/// Records keep their own bytes in landing; only comparisons and hashes use this form.
public enum Identity {
  /// The canonical form of an email or serial number.
  public static func canonical(_ text: String) -> String {
    var copy = text
    let ascii = copy.withUTF8 { bytes -> String?? in
      let raw = UnsafeRawBufferPointer(bytes)
      if isCanonicalASCII(raw) { return .some(nil) }
      guard isASCII(raw) else { return nil }
      return .some(String(decoding: canonicalASCII(raw), as: UTF8.self))
    }
    switch ascii {
    case .some(nil): return text
    case .some(let folded?): return folded
    case nil:
      return text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().precomposedStringWithCanonicalMapping
    }
  }

  /// The canonical form of UTF-8 `bytes` (invalid sequences are replaced, as `String(decoding:)` does).
  public static func canonical(bytes: UnsafeRawBufferPointer) -> [UInt8] {
    if isCanonicalASCII(bytes) { return Array(bytes) }
    if isASCII(bytes) { return canonicalASCII(bytes) }
    return Array(canonical(String(decoding: bytes, as: UTF8.self)).utf8)
  }

  /// The canonical form of ASCII `bytes`: for ASCII, Unicode's white space is 0x09-0x0D and
  /// 0x20, its full lower-case mapping is A-Z to a-z, and NFC changes nothing. Byte by byte,
  /// because Foundation's trimming and case mapping made this the pipeline's slowest step on
  /// data whose emails have capitals (the public data's do).
  static func canonicalASCII(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
      count = writeCanonicalASCII(bytes, into: UnsafeMutableRawBufferPointer(buffer))
    }
  }

  /// Writes the canonical form of ASCII `bytes` into `output` (at least as large); returns its length.
  @inline(__always) static func writeCanonicalASCII(
    _ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
  ) -> Int {
    var start = 0
    var end = bytes.count
    while start < end, isASCIISpace(bytes[start]) { start += 1 }
    while end > start, isASCIISpace(bytes[end - 1]) { end -= 1 }
    var count = 0
    for index in start..<end {
      let byte = bytes[index]
      output[count] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
      count += 1
    }
    return count
  }

  /// Whether every byte is ASCII.
  @inline(__always) static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
    for byte in bytes where byte >= 0x80 { return false }
    return true
  }

  /// Whether two spellings name the same identity.
  public static func same(_ a: String, _ b: String) -> Bool { a == b || canonical(a) == canonical(b) }

  /// Whether `bytes` are already canonical because they are ASCII without capitals or surrounding
  /// white space: the common case, checked without allocating (landing holds millions of them).
  @inline(__always) public static func isCanonicalASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard let first = bytes.first, let last = bytes.last else { return true }
    if isASCIISpace(first) || isASCIISpace(last) { return false }
    for byte in bytes where byte >= 0x80 || (byte >= 0x41 && byte <= 0x5A) { return false }
    return true
  }

  @inline(__always) static func isASCIISpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }
}

extension ByteStringTable {
  /// The id of the identity spelled by `bytes` in a table whose keys are canonical identities.
  @inline(__always) public func id(ofIdentity bytes: UnsafeRawBufferPointer) -> Int32? {
    if Identity.isCanonicalASCII(bytes) { return id(of: bytes) }
    if Identity.isASCII(bytes) {
      // Folded on the stack: capitals in emails are common, and this runs once per landing line.
      return withUnsafeTemporaryAllocation(byteCount: max(1, bytes.count), alignment: 1) { buffer in
        let count = Identity.writeCanonicalASCII(bytes, into: buffer)
        return id(of: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
      }
    }
    return Identity.canonical(bytes: bytes).withUnsafeBytes { id(of: $0) }
  }

  /// The id of the identity `text` in a table whose keys are canonical identities.
  public func id(ofIdentity text: String) -> Int32? { id(of: Identity.canonical(text)) }

  /// Adds the canonical form of `text`; returns its id.
  @discardableResult
  public mutating func insert(identity text: String) -> Int32 { insert(Identity.canonical(text)) }
}
