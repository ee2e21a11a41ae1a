/// Splits raw bytes into the runs that could be an email address or a serial number, for lines
/// that cannot be parsed as records (malformed landing lines, quarantine entries): the only way
/// to tell whose they are is to look at every identifier-like word in them.
///
/// A token is a maximal run of ASCII letters, digits, `. _ % + - @` and non-ASCII UTF-8 bytes (so
/// `élise@x.com` in any Unicode spelling is one token); quotes, spaces, colons, commas and
/// backslashes end it, so JSON punctuation never glues two values together. A line holding a
/// backslash is tokenized a second time with its JSON escapes decoded, so an identifier written
/// as `\u00e9lise@x.com` is found too.
package enum IdentifierTokens {
  /// Calls `body` with each token of at least `minimumLength` bytes.
  package static func forEach(in bytes: UnsafeBufferPointer<UInt8>, minimumLength: Int = 3, _ body: (Substring) -> Void)
  {
    forEachRaw(in: bytes, minimumLength: minimumLength, body)
    guard bytes.contains(0x5C) else { return }
    let unescaped = unescapingJSON(bytes)
    unescaped.withUnsafeBufferPointer { forEachRaw(in: $0, minimumLength: minimumLength, body) }
  }

  /// `bytes` with JSON string escapes (`\uXXXX`, surrogate pairs, `\/`, `\"`...) decoded;
  /// anything that is not a valid escape is kept as it is.
  package static func unescapingJSON(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(bytes.count)
    var index = 0
    func hex4(at position: Int) -> UInt32? {
      guard position + 4 <= bytes.count else { return nil }
      var value: UInt32 = 0
      for offset in 0..<4 {
        let byte = bytes[position + offset]
        let digit: UInt32
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
        value = value << 4 | digit
      }
      return value
    }
    while index < bytes.count {
      let byte = bytes[index]
      guard byte == 0x5C, index + 1 < bytes.count else {
        output.append(byte)
        index += 1
        continue
      }
      let next = bytes[index + 1]
      switch next {
      case UInt8(ascii: "u"):
        guard var scalar = hex4(at: index + 2) else {
          output.append(byte)
          index += 1
          continue
        }
        var consumed = 6
        if (0xD800...0xDBFF).contains(scalar), index + 12 <= bytes.count, bytes[index + 6] == 0x5C,
          bytes[index + 7] == UInt8(ascii: "u"), let low = hex4(at: index + 8), (0xDC00...0xDFFF).contains(low)
        {
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          consumed = 12
        }
        if let unicode = Unicode.Scalar(scalar) {
          output.append(contentsOf: Array(String(Character(unicode)).utf8))
        }
        index += consumed
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
        output.append(next)
        index += 2
      default:
        // \n, \t and the like separate words, as white space would.
        output.append(0x20)
        index += 2
      }
    }
    return output
  }

  private static func forEachRaw(in bytes: UnsafeBufferPointer<UInt8>, minimumLength: Int, _ body: (Substring) -> Void)
  {
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

  @inline(__always) package static func isIdentifierByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"):
      true
    case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "-"),
      UInt8(ascii: "@"), 0x80...0xFF:
      true
    default: false
    }
  }
}
