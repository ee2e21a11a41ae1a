// Parquet's value encodings (Encodings.md): PLAIN and the RLE / bit-packed hybrid that carries
// definition levels and dictionary indices.

/// parquet.thrift's Encoding values.
enum EncodingCode {
  static let plain: Int32 = 0
  static let plainDictionary: Int32 = 2
  static let rle: Int32 = 3
  static let bitPacked: Int32 = 4
  static let rleDictionary: Int32 = 8

  static func name(_ code: Int32) -> String {
    switch code {
    case 0: return "PLAIN"
    case 2: return "PLAIN_DICTIONARY"
    case 3: return "RLE"
    case 4: return "BIT_PACKED"
    case 5: return "DELTA_BINARY_PACKED"
    case 6: return "DELTA_LENGTH_BYTE_ARRAY"
    case 7: return "DELTA_BYTE_ARRAY"
    case 8: return "RLE_DICTIONARY"
    case 9: return "BYTE_STREAM_SPLIT"
    default: return "encoding \(code)"
    }
  }
}

extension Array where Element == UInt8 {
  mutating func appendLittleEndian(_ value: UInt64) {
    var v = value
    for _ in 0..<8 {
      append(UInt8(truncatingIfNeeded: v))
      v >>= 8
    }
  }

  mutating func appendLittleEndian(_ value: UInt32) {
    var v = value
    for _ in 0..<4 {
      append(UInt8(truncatingIfNeeded: v))
      v >>= 8
    }
  }

  mutating func appendVarint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      append(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    append(UInt8(v))
  }
}

/// The number of bits needed for values up to `maxValue`.
func bitWidth(_ maxValue: UInt32) -> Int {
  maxValue == 0 ? 0 : 32 - maxValue.leadingZeroBitCount
}

/// Encodes values with the RLE / bit-packed hybrid: runs of 8 or more equal values as RLE runs,
/// the rest bit-packed in groups of 8.
struct RLEHybridEncoder {
  let width: Int
  var bytes: [UInt8] = []

  init(width: Int) {
    self.width = width
  }

  mutating func encode(_ values: UnsafeBufferPointer<UInt32>) {
    let n = values.count
    var i = 0
    func runLength(_ at: Int) -> Int {
      let v = values[at]
      var j = at + 1
      while j < n && values[j] == v { j += 1 }
      return j - at
    }
    while i < n {
      let run = runLength(i)
      if run >= 8 {
        bytes.appendVarint(UInt64(run) << 1)
        var v = values[i]
        for _ in 0..<((width + 7) / 8) {
          bytes.append(UInt8(truncatingIfNeeded: v))
          v >>= 8
        }
        i += run
        continue
      }
      let start = i
      var groups = 0
      repeat {
        i += 8
        groups += 1
      } while i < n && runLength(i) < 8
      bytes.appendVarint(UInt64(groups) << 1 | 1)
      // Values past the end pad the last group with zeros; the reader knows the count.
      var accumulator: UInt64 = 0
      var bits = 0
      for k in start..<(start + groups * 8) {
        let v = k < n ? UInt64(values[k]) : 0
        accumulator |= v << UInt64(bits)
        bits += width
        while bits >= 8 {
          bytes.append(UInt8(truncatingIfNeeded: accumulator))
          accumulator >>= 8
          bits -= 8
        }
      }
      if bits > 0 { bytes.append(UInt8(truncatingIfNeeded: accumulator)) }
      i = min(i, n)
    }
  }
}

/// Decodes `count` values of the RLE / bit-packed hybrid from `bytes[start..<end]`.
func decodeRLEHybrid(
  _ bytes: [UInt8], from start: Int, to end: Int, width: Int, count: Int, into output: inout [UInt32]
) throws(ParquetError) {
  guard width >= 0 && width <= 32 else { throw .malformed("bit width \(width)", offset: start) }
  output.reserveCapacity(output.count + count)
  let target = output.count + count
  var p = start
  let mask: UInt64 = width == 32 ? 0xFFFF_FFFF : (1 << UInt64(width)) - 1
  while output.count < target {
    var header: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard p < end else { throw .truncated("RLE / bit-packed run", offset: p) }
      guard shift < 64 else { throw .malformed("RLE run header too long", offset: p) }
      let b = bytes[p]
      p += 1
      header |= UInt64(b & 0x7F) << shift
      if b & 0x80 == 0 { break }
      shift += 7
    }
    if header & 1 == 0 {
      let run = header >> 1
      let valueBytes = (width + 7) / 8
      guard end - p >= valueBytes else { throw .truncated("RLE run value", offset: p) }
      var v: UInt64 = 0
      for k in 0..<valueBytes { v |= UInt64(bytes[p + k]) << UInt64(8 * k) }
      p += valueBytes
      guard v <= mask else { throw .malformed("RLE value \(v) wider than \(width) bits", offset: p) }
      guard run > 0 else { throw .malformed("empty RLE run", offset: p) }
      // A run may be longer than the values wanted (padding); never past them.
      let take = Int(min(run, UInt64(target - output.count)))
      output.append(contentsOf: repeatElement(UInt32(v), count: take))
    } else {
      let groups = header >> 1
      guard groups > 0 else { throw .malformed("empty bit-packed run", offset: p) }
      let available = UInt64(end - p)
      // The last run may be cut short by the page's end only if its values are not needed. A hostile
      // count must not overflow: past the bytes available, it only matters that it is past them.
      let totalBytes = groups > available ? available : min(groups * UInt64(width), available)
      let wanted = groups > available ? UInt64(target - output.count) : min(groups * 8, UInt64(target - output.count))
      let neededBytes = (wanted * UInt64(width) + 7) / 8
      guard neededBytes <= available else { throw .truncated("bit-packed run", offset: p) }
      var accumulator: UInt64 = 0
      var bits = 0
      var q = p
      for _ in 0..<wanted {
        while bits < width {
          accumulator |= UInt64(bytes[q]) << UInt64(bits)
          q += 1
          bits += 8
        }
        output.append(UInt32(truncatingIfNeeded: accumulator & mask))
        accumulator = width == 64 ? 0 : accumulator >> UInt64(width)
        bits -= width
      }
      p += Int(totalBytes)
    }
  }
}

/// Little-endian reads from a byte array, bounds-checked by the caller.
@inline(__always)
func loadUInt64(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
  UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
}

@inline(__always)
func loadUInt32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
  UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
}
