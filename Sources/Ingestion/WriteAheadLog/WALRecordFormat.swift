import Checksums

/// The byte layout of one log record; the table is in the documentation of `WriteAheadLog`.
enum WALRecordFormat {
  /// Starts every record: the ASCII bytes "WAL1" read as a little-endian integer.
  static let magic: UInt32 = 0x314C_4157
  /// Magic, payload length, LSN and checksum.
  static let headerBytes = 20
  /// The header fields the checksum covers (all but the checksum itself).
  static let checkedHeaderBytes = 16
  /// The largest payload a record may hold. Far above any ingest request, it is mostly a sanity
  /// bound: a corrupt length field beyond it is reported as such instead of as a short payload.
  static let maxPayloadBytes = 256 << 20

  /// What `decode` found at an offset.
  enum Decoded {
    /// A valid record: its LSN, where its payload lies and where the next record starts.
    case record(lsn: UInt64, payload: Range<Int>, end: Int)
    /// Not a valid record.
    case damaged(WALDamage.Reason)
  }

  /// Appends one encoded record (header, then payload) to `buffer`.
  static func append(lsn: UInt64, payload: WALPayload, to buffer: inout [UInt8]) {
    precondition(payload.count <= maxPayloadBytes, "payload length is checked by WriteAheadLog.append")
    let start = buffer.count
    appendLittleEndian(magic, to: &buffer)
    appendLittleEndian(UInt32(payload.count), to: &buffer)
    appendLittleEndian(lsn, to: &buffer)
    let crc = buffer.withUnsafeBufferPointer { all in
      payload.head.withUnsafeBufferPointer { head in
        payload.body.withUnsafeBufferPointer { body in
          let header = UnsafeBufferPointer(rebasing: all[start..<start + checkedHeaderBytes])
          // The payload's two parts in a row: the same checksum as over them joined.
          return CRC32C.finalize(CRC32C.update(CRC32C.update(CRC32C.update(CRC32C.initial, header), head), body))
        }
      }
    }
    appendLittleEndian(crc, to: &buffer)
    buffer.append(contentsOf: payload.head)
    buffer.append(contentsOf: payload.body)
  }

  /// Reads the record starting at `offset`, checking everything but its LSN (that is the caller's
  /// job, because the expected LSN depends on the segment and on the records before it).
  static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> Decoded {
    let remaining = bytes.count - offset
    guard remaining >= headerBytes else { return .damaged(.truncatedHeader) }
    let raw = UnsafeRawBufferPointer(bytes)
    guard UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) == magic else {
      return .damaged(.badMagic)
    }
    let length = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
    guard length <= maxPayloadBytes else { return .damaged(.implausibleLength(length)) }
    guard remaining - headerBytes >= Int(length) else { return .damaged(.truncatedPayload) }
    let lsn = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
    let stored = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 16, as: UInt32.self))
    let payload = (offset + headerBytes)..<(offset + headerBytes + Int(length))
    let computed = checksum(
      header: UnsafeBufferPointer(rebasing: bytes[offset..<offset + checkedHeaderBytes]),
      payload: UnsafeBufferPointer(rebasing: bytes[payload]))
    guard computed == stored else { return .damaged(.checksumMismatch) }
    return .record(lsn: lsn, payload: payload, end: payload.upperBound)
  }

  /// CRC-32C over the checked header fields followed by the payload, so a torn or corrupted
  /// length or LSN is caught as surely as a damaged payload.
  private static func checksum(header: UnsafeBufferPointer<UInt8>, payload: UnsafeBufferPointer<UInt8>) -> UInt32 {
    CRC32C.finalize(CRC32C.update(CRC32C.update(CRC32C.initial, header), payload))
  }

  private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
  }
}
