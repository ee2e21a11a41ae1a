/// An output buffer that renders NDJSON lines with a fixed key order and canonical numbers.
///
/// Canonical rendering (the same value always gives the same bytes) is what makes re-runs
/// byte-identical.
public struct NDJSONBuffer: Sendable {
  /// The rendered bytes so far.
  public private(set) var bytes: [UInt8] = []
  private var needsComma = false
  /// Writes `", "` and `": "` between members, as Python's json.dumps does (the public STEDI
  /// customer files look like that); compact otherwise.
  public var spaced = false

  public init(capacity: Int = 0, spaced: Bool = false) {
    bytes.reserveCapacity(capacity)
    self.spaced = spaced
  }

  public var isEmpty: Bool { bytes.isEmpty }

  /// Drops the rendered bytes, keeping the allocation.
  public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

  public mutating func beginObject() {
    bytes.append(UInt8(ascii: "{"))
    needsComma = false
  }

  public mutating func endObject() {
    bytes.append(UInt8(ascii: "}"))
    bytes.append(UInt8(ascii: "\n"))
  }

  private mutating func key(_ name: StaticString) {
    if needsComma {
      bytes.append(UInt8(ascii: ","))
      if spaced { bytes.append(UInt8(ascii: " ")) }
    }
    needsComma = true
    bytes.append(UInt8(ascii: "\""))
    bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    bytes.append(UInt8(ascii: "\""))
    bytes.append(UInt8(ascii: ":"))
    if spaced { bytes.append(UInt8(ascii: " ")) }
  }

  /// Starts a member whose name is known only at run time, given as its JSON literal (`quoted(_:)`);
  /// the value follows with `appendInteger`, `appendDouble` or `appendQuoted`.
  public mutating func key(quoted name: [UInt8]) {
    if needsComma {
      bytes.append(UInt8(ascii: ","))
      if spaced { bytes.append(UInt8(ascii: " ")) }
    }
    needsComma = true
    bytes.append(contentsOf: name)
    bytes.append(UInt8(ascii: ":"))
    if spaced { bytes.append(UInt8(ascii: " ")) }
  }

  public mutating func field(_ name: StaticString, _ value: String) {
    key(name)
    appendQuoted(value)
  }

  /// Writes a string value rendered beforehand with `quoted(_:)`: a value repeated on many rows
  /// (an email, a serial number) is escaped once, not once per row.
  public mutating func field(_ name: StaticString, quoted value: [UInt8]) {
    key(name)
    bytes.append(contentsOf: value)
  }

  /// A string's JSON literal, quotes included.
  public static func quoted(_ value: String) -> [UInt8] {
    var buffer = NDJSONBuffer()
    buffer.appendQuoted(value)
    return buffer.bytes
  }

  public mutating func field(_ name: StaticString, _ value: Int64) {
    key(name)
    appendInteger(value)
  }

  public mutating func field(_ name: StaticString, _ value: Int) {
    field(name, Int64(value))
  }

  /// Writes a floating-point number in shortest round-trip form (`1.0`, `-0.25`).
  public mutating func field(_ name: StaticString, _ value: Double) {
    key(name)
    appendDouble(value, integralAsInteger: false)
  }

  /// Writes a measurement that is usually whole: `218` rather than `218.0`, as the landing data has it.
  public mutating func field(_ name: StaticString, measurement value: Double) {
    key(name)
    appendDouble(value, integralAsInteger: true)
  }

  /// Writes the key only when a value is present (absent consent stays absent, as in the landing data).
  public mutating func field(_ name: StaticString, _ value: Int64?) {
    if let value { field(name, value) }
  }

  public mutating func field(_ name: StaticString, _ value: String?) {
    if let value { field(name, value) }
  }

  /// Writes `true` or `false`.
  public mutating func field(_ name: StaticString, _ value: Bool) {
    key(name)
    bytes.append(contentsOf: (value ? "true" : "false").utf8)
  }

  /// Writes already-rendered JSON text as the value.
  public mutating func rawField(_ name: StaticString, _ json: some Collection<UInt8>) {
    key(name)
    bytes.append(contentsOf: json)
  }

  public mutating func appendInteger(_ value: Int64) {
    if value < 0 {
      bytes.append(UInt8(ascii: "-"))
      appendMagnitude(value.magnitude)
    } else {
      appendMagnitude(UInt64(value))
    }
  }

  private mutating func appendMagnitude(_ value: UInt64) {
    if value < 10 {
      bytes.append(UInt8(ascii: "0") + UInt8(value))
      return
    }
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, enough for 20 digits
    let count = withUnsafeMutableBytes(of: &digits) { scratch -> Int in
      var remaining = value
      var index = scratch.count
      while remaining > 0 {
        index -= 1
        scratch[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
        remaining /= 10
      }
      bytes.append(contentsOf: scratch[index...])
      return scratch.count - index
    }
    _ = count
  }

  public mutating func appendDouble(_ value: Double, integralAsInteger: Bool) {
    // JSON has no NaN or infinity; the decoders never produce them, so this is a programming error.
    precondition(value.isFinite, "JSON cannot represent \(value)")
    if value == value.rounded(.towardZero), abs(value) < 1e15 {
      // Also folds -0.0 into 0, so equal values render equally.
      appendInteger(Int64(value))
      if !integralAsInteger {
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0"))
      }
    } else if let tenThousandths = Self.exactTenThousandths(value) {
      // A value with at most four decimals (phones' readings, rounded): written digit by digit,
      // which gives the same text as `description` at a fraction of its cost.
      if tenThousandths < 0 { bytes.append(UInt8(ascii: "-")) }
      let magnitude = tenThousandths.magnitude
      appendMagnitude(magnitude / 10_000)
      bytes.append(UInt8(ascii: "."))
      var fraction = magnitude % 10_000
      var width = 4
      while fraction % 10 == 0 {
        fraction /= 10
        width -= 1
      }
      var divisor: UInt64 = 1
      for _ in 1..<width { divisor *= 10 }
      while divisor > 0 {
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / divisor % 10))
        divisor /= 10
      }
    } else {
      bytes.append(contentsOf: value.description.utf8)
    }
  }

  /// `value` × 10⁴ when that is a whole number whose decimal form reads back as exactly `value`.
  @inline(__always) static func exactTenThousandths(_ value: Double) -> Int64? {
    guard abs(value) < 1e11, abs(value) >= 1e-4 else { return nil }
    let scaled = (value * 10_000).rounded()
    guard scaled / 10_000 == value else { return nil }
    return Int64(scaled)
  }

  /// Appends a JSON string literal, escaping what RFC 8259 requires.
  public mutating func appendQuoted(_ value: String) {
    bytes.append(UInt8(ascii: "\""))
    let needsEscaping = value.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    if !needsEscaping {
      bytes.append(contentsOf: value.utf8)
      bytes.append(UInt8(ascii: "\""))
      return
    }
    // Byte by byte without allocating: a line of control bytes (a file of NULs) is six output
    // bytes per input byte, and allocating per byte made that the slowest path of a run.
    bytes.reserveCapacity(bytes.count + value.utf8.count + 16)
    for byte in value.utf8 {
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"):
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(byte)
      case 0x0A:
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "n"))
      case 0x0D:
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "r"))
      case 0x09:
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "t"))
      case 0..<0x20:
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "u"))
        bytes.append(UInt8(ascii: "0"))
        bytes.append(UInt8(ascii: "0"))
        bytes.append(Self.lowercaseHexDigit(byte >> 4))
        bytes.append(Self.lowercaseHexDigit(byte & 0x0F))
      default: bytes.append(byte)
      }
    }
    bytes.append(UInt8(ascii: "\""))
  }

  @inline(__always) private static func lowercaseHexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
  }

  /// Appends one byte of already-rendered JSON.
  public mutating func appendRaw(_ byte: UInt8) { bytes.append(byte) }

  /// Appends already-rendered JSON text.
  public mutating func appendRaw(contentsOf other: [UInt8]) { bytes.append(contentsOf: other) }

  /// Appends one already-rendered line and its newline (a record that arrived in canonical form).
  public mutating func appendLine(_ line: UnsafeBufferPointer<UInt8>) {
    bytes.append(contentsOf: line)
    bytes.append(UInt8(ascii: "\n"))
  }

  /// Appends already-rendered lines, newlines included.
  public mutating func appendLines(_ lines: UnsafeBufferPointer<UInt8>) {
    bytes.append(contentsOf: lines)
  }

  /// Appends another buffer's lines.
  public mutating func append(_ other: NDJSONBuffer) {
    bytes.append(contentsOf: other.bytes)
  }
}
