/// Splits raw bytes into the runs that could be an email address or a serial number, for lines
/// that cannot be parsed as records (malformed landing lines, quarantine entries): the only way
/// to tell whose they are is to look at every identifier-like word in them.
///
/// A token is a maximal run of ASCII letters, digits and `. _ % + - @`; quotes, spaces, colons,
/// commas and backslashes end it, so JSON punctuation and escapes never glue two values together.
enum IdentifierTokens {
  /// Calls `body` with each token of at least `minimumLength` bytes.
  static func forEach(in bytes: UnsafeBufferPointer<UInt8>, minimumLength: Int = 3, _ body: (Substring) -> Void) {
    var start = -1
    for index in 0...bytes.count {
      let isTokenByte = index < bytes.count && isIdentifierByte(bytes[index])
      if isTokenByte {
        if start < 0 { start = index }
      } else if start >= 0 {
        if index - start >= minimumLength {
          let token = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
          body(Substring(token))
        }
        start = -1
      }
    }
  }

  @inline(__always) static func isIdentifierByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"):
      true
    case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "-"),
      UInt8(ascii: "@"):
      true
    default: false
    }
  }
}
