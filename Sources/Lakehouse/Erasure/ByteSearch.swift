#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Substring search in raw bytes, for finding a customer's identifiers in lake files before
/// any JSON is decoded.
///
/// Hand-written because no listed package searches bytes: both searches lean on the C
/// library's vectorised `memchr`, which scans hundreds of megabytes a second where a
/// byte-at-a-time Swift loop would dominate an erasure's time.
public enum ByteSearch {
  /// Whether `haystack` contains `needle` exactly.
  public static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
    search(haystack, needle, anchorOffset: anchor(in: needle, ignoringCase: false) ?? 0, ignoringCase: false)
  }

  /// Where to anchor the search: the first `@`, `-`, `_` or `.` (rare in lake lines outside
  /// emails and serial numbers, unlike digits), else the first byte that has no case.
  private static func anchor(in needle: [UInt8], ignoringCase: Bool) -> Int? {
    let rare: [UInt8] = [UInt8(ascii: "@"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ".")]
    for byte in rare { if let offset = needle.firstIndex(of: byte) { return offset } }
    return ignoringCase ? needle.firstIndex(where: { !isLetter($0) }) : nil
  }

  /// Whether `haystack` contains `needle` ignoring ASCII case; `needle` must be lower-case.
  ///
  /// Candidates are found with `memchr` on the needle's first byte that has no case (the `@`
  /// of an email, a digit or `-` of a serial number), then compared in full.
  public static func containsIgnoringCase(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
    guard let anchorOffset = anchor(in: needle, ignoringCase: true) else {
      guard needle.count <= haystack.count else { return needle.isEmpty }
      return (0...(haystack.count - needle.count)).contains { matches(haystack, at: $0, needle, ignoringCase: true) }
    }
    return search(haystack, needle, anchorOffset: anchorOffset, ignoringCase: true)
  }

  /// Finds candidates with `memchr` on `needle[anchorOffset]` and compares each in full.
  private static func search(
    _ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8], anchorOffset: Int, ignoringCase: Bool
  ) -> Bool {
    guard !needle.isEmpty else { return true }
    guard let base = haystack.baseAddress, needle.count <= haystack.count else { return false }
    let anchor = Int32(needle[anchorOffset])
    // The anchor's last possible position, and where the search continues.
    let lastAnchor = haystack.count - needle.count + anchorOffset
    var from = anchorOffset
    while from <= lastAnchor {
      guard let found = memchr(base + from, anchor, lastAnchor - from + 1) else { return false }
      let at = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
      if matches(haystack, at: at - anchorOffset, needle, ignoringCase: ignoringCase) { return true }
      from = at + 1
    }
    return false
  }

  @inline(__always) private static func isLetter(_ byte: UInt8) -> Bool {
    (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
  }

  @inline(__always) private static func matches(
    _ haystack: UnsafeBufferPointer<UInt8>, at start: Int, _ needle: [UInt8], ignoringCase: Bool
  ) -> Bool {
    for index in 0..<needle.count {
      var byte = haystack[start + index]
      if ignoringCase, byte >= 0x41 && byte <= 0x5A { byte += 0x20 }
      if byte != needle[index] { return false }
    }
    return true
  }
}
