// The basic shape every email in landing data must have. Not RFC 5322: only what tells an
// address from a blank, a name or a typo, so that no customer is keyed by "" or "   ".

/// Checks that an email field holds an address: trimmed, something before one '@', and a domain without whitespace.
enum EmailShape {
  /// Why `bytes` (a string field's unescaped UTF-8) is not an address, or nil when it is one.
  static func problem(_ bytes: UnsafeRawBufferPointer, field: String) -> RecordError? {
    // Non-ASCII text may hold Unicode whitespace (no-break space, ideographic space): checked as
    // characters. ASCII, the usual case, is checked byte by byte.
    if bytes.contains(where: { $0 >= 0x80 }) {
      return problem(characters: String(decoding: bytes, as: UTF8.self), field: field)
    }
    var start = 0
    var end = bytes.count
    while start < end, isASCIIWhitespace(bytes[start]) { start += 1 }
    while end > start, isASCIIWhitespace(bytes[end - 1]) { end -= 1 }
    guard start < end else { return blank(field) }
    var at = -1
    var ats = 0
    for index in start..<end where bytes[index] == UInt8(ascii: "@") {
      ats += 1
      at = index
    }
    guard ats == 1 else { return atCount(ats, field) }
    guard at > start else { return noLocalPart(field) }
    guard at + 1 < end else { return noDomain(field) }
    for index in (at + 1)..<end where isASCIIWhitespace(bytes[index]) { return spaceInDomain(field) }
    return nil
  }

  private static func problem(characters text: String, field: String) -> RecordError? {
    let trimmed = text.trimmingWhitespace()
    guard !trimmed.isEmpty else { return blank(field) }
    let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count == 2 else { return atCount(parts.count - 1, field) }
    guard !parts[0].isEmpty else { return noLocalPart(field) }
    guard !parts[1].isEmpty else { return noDomain(field) }
    if parts[1].contains(where: \.isWhitespace) { return spaceInDomain(field) }
    return nil
  }

  @inline(__always) private static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
  }

  // The details name the field but never quote the value: quarantine and 400 answers end up in logs.
  private static func blank(_ field: String) -> RecordError {
    RecordError(.invalidValue, "field '\(field)' must be an email address, found a blank string", field: field)
  }

  private static func atCount(_ count: Int, _ field: String) -> RecordError {
    RecordError(
      .invalidValue,
      "field '\(field)' must be an email address with one '@', found \(count == 0 ? "none" : "\(count)")",
      field: field)
  }

  private static func noLocalPart(_ field: String) -> RecordError {
    RecordError(.invalidValue, "field '\(field)' must be an email address, found nothing before the '@'", field: field)
  }

  private static func noDomain(_ field: String) -> RecordError {
    RecordError(.invalidValue, "field '\(field)' must be an email address, found no domain after the '@'", field: field)
  }

  private static func spaceInDomain(_ field: String) -> RecordError {
    RecordError(
      .invalidValue, "field '\(field)' must be an email address, found whitespace in its domain", field: field)
  }
}

extension String {
  /// The string without leading and trailing whitespace (Unicode's definition).
  fileprivate func trimmingWhitespace() -> Substring {
    guard let first = firstIndex(where: { !$0.isWhitespace }) else { return "" }
    let last = lastIndex(where: { !$0.isWhitespace })!
    return self[first...last]
  }
}
