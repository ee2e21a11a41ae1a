/// CRC-32C (Castagnoli), the frame checksum of PROTOCOL.md section 3.2 and the write-ahead log's.
///
/// Written by hand because the protocol module depends on nothing but this module (both must build
/// as Embedded Swift), and swift-crypto has no CRC. Two implementations of one function: slicing-by-16 on
/// hosts, where the decoder must keep up with thousands of devices per core, and a 16-entry
/// nibble table on microcontrollers, where 16 KiB of tables would not fit in RAM.
public enum CRC32C {
  /// The register value before the first byte.
  public static let initial: UInt32 = 0xFFFF_FFFF

  /// Feeds `bytes` into a running register.
  @inlinable
  public static func update(_ crc: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
    #if hasFeature(Embedded)
      return updateCompact(crc, bytes)
    #else
      return updateSliced(crc, bytes)
    #endif
  }

  /// Feeds one byte into a running register.
  @inlinable
  public static func update(_ crc: UInt32, byte: UInt8) -> UInt32 {
    #if hasFeature(Embedded)
      var c = crc ^ UInt32(byte)
      c = (c >> 4) ^ nibbleTable[Int(c & 0xF)]
      return (c >> 4) ^ nibbleTable[Int(c & 0xF)]
    #else
      // One lookup in the first slicing table (the byte table) instead of two nibble lookups.
      return sliceTables.withUnsafeBufferPointer { t in
        (crc >> 8) ^ t[Int(truncatingIfNeeded: (crc ^ UInt32(byte)) & 0xFF)]
      }
    #endif
  }

  /// The final register value as transmitted.
  @inlinable
  public static func finalize(_ crc: UInt32) -> UInt32 { crc ^ 0xFFFF_FFFF }

  /// CRC-32C of `bytes`, start to finish.
  @inlinable
  public static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
    finalize(update(initial, bytes))
  }

  /// The small-table variant (64 bytes of table, two lookups per byte).
  @inlinable
  public static func updateCompact(_ crc: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
    var c = crc
    for byte in bytes {
      c ^= UInt32(byte)
      c = (c >> 4) ^ nibbleTable[Int(c & 0xF)]
      c = (c >> 4) ^ nibbleTable[Int(c & 0xF)]
    }
    return c
  }

  /// Remainders of the reflected polynomial 0x82F63B78 for each 4-bit value.
  @usableFromInline
  static let nibbleTable: InlineArray<16, UInt32> = [
    0x0000_0000, 0x105E_C76F, 0x20BD_8EDE, 0x30E3_49B1, 0x417B_1DBC, 0x5125_DAD3, 0x61C6_9362, 0x7198_540D,
    0x82F6_3B78, 0x92A8_FC17, 0xA24B_B5A6, 0xB215_72C9, 0xC38D_26C4, 0xD3D3_E1AB, 0xE330_A81A, 0xF36E_6F75,
  ]

  #if !hasFeature(Embedded)
    /// The slicing-by-16 variant: sixteen bytes per step through sixteen 256-entry tables (16 KiB).
    ///
    /// Only the first four bytes of a step depend on the running register; the other twelve
    /// lookups proceed while it is being computed, so a step costs about what a slicing-by-8 step
    /// does, for twice the bytes.
    @inlinable
    public static func updateSliced(_ crc: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
      guard let base = bytes.baseAddress else { return crc }
      return sliceTables.withUnsafeBufferPointer { tables in
        update(crc, UnsafeRawPointer(base), bytes.count, tables.baseAddress!)
      }
    }

    /// `updateSliced` over `count` bytes at `base`, given the tables (`sliceTables`' storage): for
    /// callers that fetch the tables once for many short buffers, since each use of `sliceTables`
    /// goes through its lazy initialiser's check.
    @inlinable @inline(__always)
    public static func updateSliced(
      _ crc: UInt32, _ base: UnsafeRawPointer, _ count: Int, tables: UnsafePointer<UInt32>
    ) -> UInt32 {
      update(crc, base, count, tables)
    }

    /// The loop of `updateSliced`, given the tables.
    @inlinable @inline(__always)
    static func update(_ crc: UInt32, _ base: UnsafeRawPointer, _ count: Int, _ t: UnsafePointer<UInt32>) -> UInt32 {
      @inline(__always) func lookup(_ table: Int, _ byte: UInt64) -> UInt32 {
        t[table &* 256 &+ Int(truncatingIfNeeded: byte & 0xFF)]
      }
      var c = crc
      var index = 0
      while count &- index >= 16 {
        c = step16(
          c, UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self)),
          UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index &+ 8, as: UInt64.self)), t)
        index &+= 16
      }
      if count &- index >= 8 {
        let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self)) ^ UInt64(c)
        c =
          lookup(7, word) ^ lookup(6, word &>> 8) ^ lookup(5, word &>> 16) ^ lookup(4, word &>> 24)
          ^ lookup(3, word &>> 32) ^ lookup(2, word &>> 40) ^ lookup(1, word &>> 48) ^ lookup(0, word &>> 56)
        index &+= 8
      }
      if count &- index >= 4 {
        let word = UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt32.self)) ^ c)
        c = lookup(3, word) ^ lookup(2, word &>> 8) ^ lookup(1, word &>> 16) ^ lookup(0, word &>> 24)
        index &+= 4
      }
      while index < count {
        c = (c &>> 8) ^ lookup(0, UInt64(c ^ UInt32(base.load(fromByteOffset: index, as: UInt8.self))))
        index &+= 1
      }
      return c
    }

    /// One slicing-by-16 step: sixteen bytes, given as two little-endian words, through the tables.
    @inlinable @inline(__always)
    public static func step16(_ crc: UInt32, _ low: UInt64, _ high: UInt64, _ t: UnsafePointer<UInt32>) -> UInt32 {
      @inline(__always) func lookup(_ table: Int, _ byte: UInt64) -> UInt32 {
        t[table &* 256 &+ Int(truncatingIfNeeded: byte & 0xFF)]
      }
      let low = low ^ UInt64(crc)
      let independent =
        lookup(7, high) ^ lookup(6, high &>> 8) ^ lookup(5, high &>> 16) ^ lookup(4, high &>> 24)
        ^ lookup(3, high &>> 32) ^ lookup(2, high &>> 40) ^ lookup(1, high &>> 48) ^ lookup(0, high &>> 56)
      return lookup(15, low) ^ lookup(14, low &>> 8) ^ lookup(13, low &>> 16) ^ lookup(12, low &>> 24)
        ^ lookup(11, low &>> 32) ^ lookup(10, low &>> 40) ^ lookup(9, low &>> 48) ^ lookup(8, low &>> 56)
        ^ independent
    }

    /// Table k holds the CRC of a byte followed by k zero bytes (built once, on first use).
    public static let sliceTables: [UInt32] = {
      var tables = [UInt32](repeating: 0, count: 16 * 256)
      for byte in 0..<256 {
        var c = UInt32(byte)
        for _ in 0..<8 { c = (c >> 1) ^ (c & 1 == 0 ? 0 : 0x82F6_3B78) }
        tables[byte] = c
      }
      for k in 1..<16 {
        for byte in 0..<256 {
          let previous = tables[(k - 1) * 256 + byte]
          tables[k * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
        }
      }
      return tables
    }()
  #endif
}
