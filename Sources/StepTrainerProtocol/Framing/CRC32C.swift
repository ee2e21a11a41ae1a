/// CRC-32C (Castagnoli), the frame checksum of PROTOCOL.md section 3.2.
///
/// Written by hand because the protocol module depends on nothing (it must build as Embedded
/// Swift), and swift-crypto has no CRC. Two implementations of one function: slicing-by-8 on
/// hosts, where the decoder must keep up with thousands of devices per core, and a 16-entry
/// nibble table on microcontrollers, where 8 KiB of tables would not fit in RAM.
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
    var c = crc ^ UInt32(byte)
    c = (c >> 4) ^ nibbleTable[Int(c & 0xF)]
    return (c >> 4) ^ nibbleTable[Int(c & 0xF)]
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
    for byte in bytes { c = update(c, byte: byte) }
    return c
  }

  /// Remainders of the reflected polynomial 0x82F63B78 for each 4-bit value.
  @usableFromInline
  static let nibbleTable: InlineArray<16, UInt32> = [
    0x0000_0000, 0x105E_C76F, 0x20BD_8EDE, 0x30E3_49B1, 0x417B_1DBC, 0x5125_DAD3, 0x61C6_9362, 0x7198_540D,
    0x82F6_3B78, 0x92A8_FC17, 0xA24B_B5A6, 0xB215_72C9, 0xC38D_26C4, 0xD3D3_E1AB, 0xE330_A81A, 0xF36E_6F75,
  ]

  #if !hasFeature(Embedded)
    /// The slicing-by-8 variant: eight bytes per step through eight 256-entry tables.
    @inlinable
    public static func updateSliced(_ crc: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
      var c = crc
      var index = 0
      let count = bytes.count
      guard let base = bytes.baseAddress else { return c }
      sliceTables.withUnsafeBufferPointer { t in
        while count - index >= 8 {
          let raw = UnsafeRawPointer(base + index)
          let low = UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)) ^ c
          let high = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
          c =
            t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
            ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
            ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
            ^ t[1 * 256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
          index += 8
        }
        while index < count {
          c = (c >> 8) ^ t[Int((c ^ UInt32(base[index])) & 0xFF)]
          index += 1
        }
      }
      return c
    }

    /// Table k holds the CRC of a byte followed by k zero bytes (built once, on first use).
    @usableFromInline
    static let sliceTables: [UInt32] = {
      var tables = [UInt32](repeating: 0, count: 8 * 256)
      for byte in 0..<256 {
        var c = UInt32(byte)
        for _ in 0..<8 { c = (c >> 1) ^ (c & 1 == 0 ? 0 : 0x82F6_3B78) }
        tables[byte] = c
      }
      for k in 1..<8 {
        for byte in 0..<256 {
          let previous = tables[(k - 1) * 256 + byte]
          tables[k * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
        }
      }
      return tables
    }()
  #endif
}
