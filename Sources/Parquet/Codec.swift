import CZstd

/// A page compression codec the writer can use.
public enum ParquetCompression: Sendable, Equatable, Hashable {
  /// UNCOMPRESSED.
  case none
  /// ZSTD at this level (1...19 typical; 3 is zstd's default).
  case zstd(level: Int32)

  var codecCode: Int32 {
    switch self {
    case .none: return CodecCode.uncompressed
    case .zstd: return CodecCode.zstd
    }
  }
}

/// parquet.thrift's CompressionCodec values.
enum CodecCode {
  static let uncompressed: Int32 = 0
  static let snappy: Int32 = 1
  static let zstd: Int32 = 6

  static func name(_ code: Int32) -> String {
    switch code {
    case 0: return "UNCOMPRESSED"
    case 1: return "SNAPPY"
    case 2: return "GZIP"
    case 3: return "LZO"
    case 4: return "BROTLI"
    case 5: return "LZ4"
    case 6: return "ZSTD"
    case 7: return "LZ4_RAW"
    default: return "codec \(code)"
    }
  }
}

/// A zstd compression context, kept for the writer's life: creating one per page costs more than small pages do.
final class ZstdCompressor {
  private let context: OpaquePointer
  let level: Int32

  init(level: Int32) throws(ParquetError) {
    guard let context = ZSTD_createCCtx() else { throw .codec("ZSTD_createCCtx failed") }
    self.context = context
    self.level = level
  }

  deinit { ZSTD_freeCCtx(context) }

  func compress(_ input: [UInt8], into output: inout [UInt8]) throws(ParquetError) -> Int {
    let bound = ZSTD_compressBound(input.count)
    let start = output.count
    output.append(contentsOf: repeatElement(0, count: bound))
    let written = input.withUnsafeBytes { src in
      output.withUnsafeMutableBytes { dst in
        ZSTD_compressCCtx(context, dst.baseAddress! + start, bound, src.baseAddress, src.count, level)
      }
    }
    if ZSTD_isError(written) != 0 {
      output.removeLast(bound)
      throw .codec("zstd: \(String(cString: ZSTD_getErrorName(written)))")
    }
    output.removeLast(bound - written)
    return written
  }
}

/// Decompresses pages; refuses sizes the page header and the compressed frame disagree on.
enum Decompressor {
  // A page header's claimed size is trusted only this far when the frame does not confirm it.
  static let maximumPageBytes = 1 << 30

  static func decompress(
    codec: Int32, _ input: ArraySlice<UInt8>, uncompressedSize: Int, offset: Int
  ) throws(ParquetError) -> [UInt8] {
    switch codec {
    case CodecCode.uncompressed:
      guard input.count == uncompressedSize else {
        throw .malformed("uncompressed page of \(input.count) bytes declares \(uncompressedSize)", offset: offset)
      }
      return Array(input)
    case CodecCode.zstd:
      return try zstd(input, uncompressedSize: uncompressedSize, offset: offset)
    case CodecCode.snappy:
      return try snappy(input, uncompressedSize: uncompressedSize, offset: offset)
    default:
      throw .unsupported("compression codec \(CodecCode.name(codec)) (reads UNCOMPRESSED, SNAPPY, ZSTD)")
    }
  }

  static func zstd(_ input: ArraySlice<UInt8>, uncompressedSize: Int, offset: Int) throws(ParquetError) -> [UInt8] {
    let frameSize = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
    // UInt64.max is ZSTD_CONTENTSIZE_UNKNOWN, UInt64.max - 1 ZSTD_CONTENTSIZE_ERROR.
    if frameSize == UInt64.max - 1 { throw .malformed("not a zstd frame", offset: offset) }
    if frameSize != UInt64.max && frameSize != UInt64(uncompressedSize) {
      throw .malformed("zstd frame holds \(frameSize) bytes, page header says \(uncompressedSize)", offset: offset)
    }
    guard uncompressedSize <= maximumPageBytes else {
      throw .malformed("page of \(uncompressedSize) bytes uncompressed", offset: offset)
    }
    var output = [UInt8](repeating: 0, count: uncompressedSize)
    let result = input.withUnsafeBytes { src in
      output.withUnsafeMutableBytes { dst in
        ZSTD_decompress(dst.baseAddress, dst.count, src.baseAddress, src.count)
      }
    }
    if ZSTD_isError(result) != 0 {
      throw .malformed("zstd: \(String(cString: ZSTD_getErrorName(result)))", offset: offset)
    }
    guard result == uncompressedSize else {
      throw .malformed("zstd page gave \(result) bytes, header says \(uncompressedSize)", offset: offset)
    }
    return output
  }

  /// Snappy's raw format (what Parquet's SNAPPY means): a varint length, then literals and back-references.
  static func snappy(_ input: ArraySlice<UInt8>, uncompressedSize: Int, offset: Int) throws(ParquetError) -> [UInt8] {
    var p = input.startIndex
    let end = input.endIndex
    func fail(_ what: String) -> ParquetError { .malformed("snappy: \(what)", offset: offset) }
    var length: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard p < end, shift < 35 else { throw fail("bad length") }
      let b = input[p]
      p += 1
      length |= UInt64(b & 0x7F) << shift
      if b & 0x80 == 0 { break }
      shift += 7
    }
    guard length == UInt64(uncompressedSize) else {
      throw fail("stream holds \(length) bytes, page header says \(uncompressedSize)")
    }
    guard uncompressedSize <= maximumPageBytes else { throw fail("page of \(uncompressedSize) bytes") }
    var output: [UInt8] = []
    output.reserveCapacity(uncompressedSize)
    while p < end {
      let tag = input[p]
      p += 1
      switch tag & 3 {
      case 0:
        var n = Int(tag >> 2)
        if n >= 60 {
          let extra = n - 59
          guard end - p >= extra else { throw fail("literal length past the end") }
          n = 0
          for i in 0..<extra { n |= Int(input[p + i]) << (8 * i) }
          p += extra
        }
        n += 1
        guard end - p >= n, output.count + n <= uncompressedSize else { throw fail("literal past the end") }
        output.append(contentsOf: input[p..<(p + n)])
        p += n
      default:
        let n: Int
        let distance: Int
        if tag & 3 == 1 {
          guard p < end else { throw fail("copy past the end") }
          n = 4 + Int((tag >> 2) & 7)
          distance = Int(tag >> 5) << 8 | Int(input[p])
          p += 1
        } else {
          let width = tag & 3 == 2 ? 2 : 4
          guard end - p >= width else { throw fail("copy past the end") }
          n = 1 + Int(tag >> 2)
          var d = 0
          for i in 0..<width { d |= Int(input[p + i]) << (8 * i) }
          distance = d
          p += width
        }
        guard distance > 0, distance <= output.count, output.count + n <= uncompressedSize else {
          throw fail("copy out of range")
        }
        // Copies may overlap their own output (runs), so byte by byte.
        var from = output.count - distance
        for _ in 0..<n {
          output.append(output[from])
          from += 1
        }
      }
    }
    guard output.count == uncompressedSize else { throw fail("stream ends after \(output.count) bytes") }
    return output
  }
}
