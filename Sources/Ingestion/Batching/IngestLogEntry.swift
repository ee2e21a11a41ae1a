import Lakehouse

/// What the ingest service writes to its write-ahead log.
///
/// `records` before a request is acknowledged; `seal` when a batch is closed (the exact entries
/// that make up its landing file, and the time in its name) before the file is written;
/// `committed` once the file is in landing. Replaying the log therefore rebuilds every batch
/// exactly as it was sealed, under the same file name, so a batch landed again after a crash
/// overwrites itself instead of landing twice.
enum IngestLogEntry: Equatable {
  case records(source: LandingSource, count: Int, ndjson: [UInt8])
  case seal(source: LandingSource, epochMilliseconds: Int64, entries: [UInt64])
  case committed(source: LandingSource, batch: UInt64)

  private static let sources = LandingSource.allCases

  /// The entry's bytes: a kind byte, a source byte, then the kind's fields, little-endian.
  var encoded: [UInt8] {
    var bytes: [UInt8] = []
    switch self {
    case .records(let source, let count, let ndjson):
      bytes.reserveCapacity(ndjson.count + 6)
      bytes += Self.recordsHead(source: source, count: count)
      bytes += ndjson
    case .seal(let source, let time, let entries):
      bytes += [2, Self.code(source)]
      append(UInt64(bitPattern: time), to: &bytes)
      append(UInt32(entries.count), to: &bytes)
      for entry in entries { append(entry, to: &bytes) }
    case .committed(let source, let batch):
      bytes += [3, Self.code(source)]
      append(batch, to: &bytes)
    }
    return bytes
  }

  /// A `records` entry as the log's two-part payload: its kind, source and count, then the
  /// NDJSON as it is (no copy of a request's lines into a new array; `encoded` joins the same).
  static func recordsPayload(source: LandingSource, count: Int, ndjson: [UInt8]) -> WALPayload {
    WALPayload(head: recordsHead(source: source, count: count), body: ndjson)
  }

  private static func recordsHead(source: LandingSource, count: Int) -> [UInt8] {
    let count = UInt32(count)
    return [
      1, code(source), UInt8(truncatingIfNeeded: count), UInt8(truncatingIfNeeded: count >> 8),
      UInt8(truncatingIfNeeded: count >> 16), UInt8(truncatingIfNeeded: count >> 24),
    ]
  }

  /// Decodes an entry, or nil if the bytes are not one (the log's checksum makes that a bug or
  /// a foreign file, which recovery reports).
  init?(decoding bytes: [UInt8]) {
    guard bytes.count >= 2, Int(bytes[1]) < Self.sources.count else { return nil }
    let source = Self.sources[Int(bytes[1])]
    switch bytes[0] {
    case 1:
      guard bytes.count >= 6 else { return nil }
      self = .records(source: source, count: Int(Self.read(UInt32.self, bytes, at: 2)), ndjson: Array(bytes[6...]))
    case 2:
      guard bytes.count >= 14 else { return nil }
      let time = Int64(bitPattern: Self.read(UInt64.self, bytes, at: 2))
      let count = Int(Self.read(UInt32.self, bytes, at: 10))
      guard bytes.count == 14 + 8 * count else { return nil }
      let entries = (0..<count).map { Self.read(UInt64.self, bytes, at: 14 + 8 * $0) }
      self = .seal(source: source, epochMilliseconds: time, entries: entries)
    case 3:
      guard bytes.count == 10 else { return nil }
      self = .committed(source: source, batch: Self.read(UInt64.self, bytes, at: 2))
    default:
      return nil
    }
  }

  private static func code(_ source: LandingSource) -> UInt8 {
    UInt8(sources.firstIndex(of: source)!)
  }

  private func append<Integer: FixedWidthInteger>(_ value: Integer, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
  }

  private static func read<Integer: FixedWidthInteger>(_: Integer.Type, _ bytes: [UInt8], at offset: Int) -> Integer {
    var value = Integer.zero
    for index in 0..<MemoryLayout<Integer>.size {
      value |= Integer(bytes[offset + index]) << (8 * index)
    }
    return value
  }
}
