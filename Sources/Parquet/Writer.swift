#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How a `ParquetWriter` lays out its file.
public struct ParquetWriterOptions: Sendable, Equatable {
  /// A row group ends after this many rows.
  public var rowGroupRows: Int
  /// A row group also ends once its values' estimated plain size reaches this many bytes (nil: rows only).
  public var rowGroupBytes: Int?
  /// The page codec.
  public var compression: ParquetCompression
  /// A string column chunk falls back to PLAIN when its dictionary (plain-encoded) would pass this size.
  public var dictionaryPageLimitBytes: Int
  /// A data page ends once its values' estimated encoded size reaches this many bytes.
  public var pageSizeBytes: Int
  /// Write min/max/null count into each data page header too (column chunk statistics are always written).
  public var pageStatistics: Bool
  /// The footer's key/value metadata, in this order.
  public var keyValueMetadata: [(key: String, value: String)]

  /// Options; the defaults suit tables of millions of rows.
  public init(
    rowGroupRows: Int = 1_000_000,
    rowGroupBytes: Int? = 128 << 20,
    compression: ParquetCompression = .zstd(level: 3),
    dictionaryPageLimitBytes: Int = 1 << 20,
    pageSizeBytes: Int = 1 << 20,
    pageStatistics: Bool = true,
    keyValueMetadata: [(key: String, value: String)] = []
  ) {
    self.rowGroupRows = rowGroupRows
    self.rowGroupBytes = rowGroupBytes
    self.compression = compression
    self.dictionaryPageLimitBytes = dictionaryPageLimitBytes
    self.pageSizeBytes = pageSizeBytes
    self.pageStatistics = pageStatistics
    self.keyValueMetadata = keyValueMetadata
  }

  /// Equal when every option is.
  public static func == (a: ParquetWriterOptions, b: ParquetWriterOptions) -> Bool {
    a.rowGroupRows == b.rowGroupRows && a.rowGroupBytes == b.rowGroupBytes && a.compression == b.compression
      && a.dictionaryPageLimitBytes == b.dictionaryPageLimitBytes && a.pageSizeBytes == b.pageSizeBytes
      && a.pageStatistics == b.pageStatistics
      && a.keyValueMetadata.map(\.key) == b.keyValueMetadata.map(\.key)
      && a.keyValueMetadata.map(\.value) == b.keyValueMetadata.map(\.value)
  }
}

/// The writer's name in the footer's created_by (parsed by readers as "<app> version <x.y.z>").
let createdBy = "stedi-parquet version 1.0.0"

/// Writes a Parquet file: append rows or column batches, then `finish()`.
///
/// The file is built in memory; `takeBytes()` hands over what is written so far (whole row groups),
/// so a caller can stream it to a file or upload and keep only one row group in memory.
public struct ParquetWriter {
  /// The schema the file is written with.
  public let schema: ParquetSchema
  /// The options the file is written with.
  public let options: ParquetWriterOptions

  private var buffers: [ColumnBuffer]
  private var output: [UInt8] = Array("PAR1".utf8)
  private var handedOver = 0
  private var rowGroups: [RowGroupMeta] = []
  private var totalRows: Int64 = 0
  private var finished = false
  private let compressor: ZstdCompressor?

  /// A writer for this schema; throws if the schema or options cannot be written.
  public init(schema: ParquetSchema, options: ParquetWriterOptions = ParquetWriterOptions()) throws(ParquetError) {
    guard !schema.columns.isEmpty else { throw .invalidInput("a schema needs at least one column") }
    guard Set(schema.columns.map(\.name)).count == schema.columns.count else {
      throw .invalidInput("column names repeat")
    }
    // Page headers count values in an i32; a page never spans row groups.
    guard options.rowGroupRows > 0, options.rowGroupRows <= Int(Int32.max), options.pageSizeBytes > 0,
      options.dictionaryPageLimitBytes >= 0
    else {
      throw .invalidInput("rowGroupRows must be in 1...\(Int32.max), pageSizeBytes positive")
    }
    self.schema = schema
    self.options = options
    self.buffers = schema.columns.map { ColumnBuffer(column: $0) }
    if case .zstd(let level) = options.compression {
      compressor = try ZstdCompressor(level: level)
    } else {
      compressor = nil
    }
  }

  /// Rows buffered for the current row group.
  public var bufferedRows: Int { buffers[0].rows }

  /// Appends one row (one value per column; `.null` only in optional columns). Convenient, not fast.
  public mutating func append(row: [ParquetValue]) throws(ParquetError) {
    guard !finished else { throw .invalidInput("append after finish") }
    guard row.count == buffers.count else {
      throw .invalidInput("row of \(row.count) values for \(buffers.count) columns")
    }
    for (i, value) in row.enumerated() {
      guard buffers[i].accepts(value) else {
        throw .invalidInput("value \(value) does not fit column \"\(buffers[i].column.name)\"")
      }
    }
    for (i, value) in row.enumerated() { buffers[i].append(value) }
    try flushIfFull()
  }

  /// Appends a batch: one `ParquetColumnValues` per column, all of the same row count. The fast path.
  public mutating func append(columns: [ParquetColumnValues]) throws(ParquetError) {
    guard !finished else { throw .invalidInput("append after finish") }
    guard columns.count == buffers.count else {
      throw .invalidInput("batch of \(columns.count) columns for \(buffers.count)")
    }
    let count = columns[0].count
    for (i, values) in columns.enumerated() {
      let column = buffers[i].column
      guard values.type == column.type else {
        throw .invalidInput("column \"\(column.name)\" is \(column.type), batch holds \(values.type)")
      }
      guard values.count == count else { throw .invalidInput("batch columns hold different row counts") }
      if let valid = values.valid {
        guard valid.count == count else { throw .invalidInput("column \"\(column.name)\": valid mask length") }
        if !column.optional && valid.contains(false) {
          throw .invalidInput("null in required column \"\(column.name)\"")
        }
      }
      if case .string(let bytes, let offsets, _) = values {
        guard offsets.first == 0 || count == 0, zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }),
          (offsets.last ?? 0) <= bytes.count
        else { throw .invalidInput("column \"\(column.name)\": string offsets out of order or range") }
      }
    }
    var from = 0
    while from < count {
      let take = min(count - from, options.rowGroupRows - bufferedRows)
      for i in buffers.indices { buffers[i].append(columns[i], from: from, to: from + take) }
      from += take
      try flushIfFull()
    }
  }

  private mutating func flushIfFull() throws(ParquetError) {
    let bytes = buffers.reduce(0) { $0 + $1.estimatedBytes }
    if bufferedRows >= options.rowGroupRows || (options.rowGroupBytes.map { bytes >= $0 } ?? false) {
      try flushRowGroup()
    }
  }

  /// Ends the current row group now (if it has rows).
  public mutating func flushRowGroup() throws(ParquetError) {
    let rows = bufferedRows
    guard rows > 0 else { return }
    var group = RowGroupMeta()
    group.numRows = Int64(rows)
    group.fileOffset = Int64(position)
    for i in buffers.indices {
      var chunk = ChunkWriter(
        column: buffers[i].column, options: options, compressor: compressor, start: position)
      let meta = try chunk.write(buffers[i], into: &output)
      group.columns.append(meta)
      group.totalByteSize += meta.uncompressedSize
      group.totalCompressedSize += meta.compressedSize
      buffers[i].reset()
    }
    rowGroups.append(group)
    totalRows += Int64(rows)
  }

  private var position: Int { handedOver + output.count }

  /// Hands over the bytes written so far (the caller writes them out in order); the writer keeps the rest.
  public mutating func takeBytes() -> [UInt8] {
    let bytes = output
    handedOver += bytes.count
    output = []
    return bytes
  }

  /// Writes the last row group and the footer; returns the bytes not yet taken (the whole file if none were).
  public mutating func finish() throws(ParquetError) -> [UInt8] {
    guard !finished else { throw .invalidInput("finish called twice") }
    try flushRowGroup()
    finished = true
    var w = ThriftWriter()
    w.i32(1, 2)
    w.listHeader(2, .struct, count: schema.columns.count + 1)
    w.beginElement()
    w.string(4, "schema")
    w.i32(5, Int32(schema.columns.count))
    w.endStruct()
    for column in schema.columns {
      w.beginElement()
      w.i32(1, PhysicalType.of(column.type))
      w.i32(3, column.optional ? 1 : 0)
      w.string(4, column.name)
      if column.type == .string {
        w.i32(6, 0)  // UTF8
        w.beginStruct(10)
        w.beginStruct(1)  // STRING
        w.endStruct()
        w.endStruct()
      } else if column.timestampMillisUTC {
        w.i32(6, 9)  // TIMESTAMP_MILLIS
        w.beginStruct(10)
        w.beginStruct(8)  // TIMESTAMP
        w.bool(1, true)
        w.beginStruct(2)
        w.beginStruct(1)  // MILLIS
        w.endStruct()
        w.endStruct()
        w.endStruct()
        w.endStruct()
      }
      w.endStruct()
    }
    w.i64(3, totalRows)
    w.listHeader(4, .struct, count: rowGroups.count)
    for group in rowGroups { group.write(&w) }
    if !options.keyValueMetadata.isEmpty {
      w.listHeader(5, .struct, count: options.keyValueMetadata.count)
      for (key, value) in options.keyValueMetadata {
        w.beginElement()
        w.string(1, key)
        w.string(2, value)
        w.endStruct()
      }
    }
    w.string(6, createdBy)
    // TYPE_ORDER for every column: readers use min_value/max_value only when the order is declared.
    w.listHeader(7, .struct, count: schema.columns.count)
    for _ in schema.columns {
      w.beginElement()
      w.beginStruct(1)
      w.endStruct()
      w.endStruct()
    }
    w.endStruct()
    output.append(contentsOf: w.bytes)
    output.appendLittleEndian(UInt32(w.bytes.count))
    output.append(contentsOf: Array("PAR1".utf8))
    return takeBytes()
  }
}

/// One column's values for the current row group: non-null values only, plus a defined flag per row.
struct ColumnBuffer {
  let column: ParquetColumn
  var ints: [Int64] = []
  var doubles: [Double] = []
  var bools: [Bool] = []
  var bytes: [UInt8] = []
  // End offset in `bytes` of each non-null string.
  var ends: [Int] = []
  // Per row, for optional columns only.
  var defined: [Bool] = []
  var rows = 0
  var nulls = 0

  init(column: ParquetColumn) {
    self.column = column
  }

  var valueCount: Int { rows - nulls }

  var estimatedBytes: Int {
    switch column.type {
    case .int64, .double: return valueCount * 8
    case .boolean: return valueCount / 8
    case .string: return bytes.count + 4 * ends.count
    }
  }

  mutating func reset() {
    ints.removeAll(keepingCapacity: true)
    doubles.removeAll(keepingCapacity: true)
    bools.removeAll(keepingCapacity: true)
    bytes.removeAll(keepingCapacity: true)
    ends.removeAll(keepingCapacity: true)
    defined.removeAll(keepingCapacity: true)
    rows = 0
    nulls = 0
  }

  func accepts(_ value: ParquetValue) -> Bool {
    switch (value, column.type) {
    case (.null, _): return column.optional
    case (.int64, .int64), (.double, .double), (.string, .string), (.bool, .boolean): return true
    default: return false
    }
  }

  mutating func append(_ value: ParquetValue) {
    rows += 1
    if column.optional { defined.append(value != .null) }
    switch value {
    case .null: nulls += 1
    case .int64(let v): ints.append(v)
    case .double(let v): doubles.append(v)
    case .bool(let v): bools.append(v)
    case .string(let s):
      bytes.append(contentsOf: s.utf8)
      ends.append(bytes.count)
    }
  }

  mutating func append(_ values: ParquetColumnValues, from: Int, to: Int) {
    let valid = values.valid
    rows += to - from
    if column.optional {
      if let valid {
        defined.append(contentsOf: valid[from..<to])
      } else {
        defined.append(contentsOf: repeatElement(true, count: to - from))
      }
    }
    if let valid { nulls += valid[from..<to].lazy.filter { !$0 }.count }
    switch values {
    case .int64(let v, _):
      if let valid {
        for i in from..<to where valid[i] { ints.append(v[i]) }
      } else {
        ints.append(contentsOf: v[from..<to])
      }
    case .double(let v, _):
      if let valid {
        for i in from..<to where valid[i] { doubles.append(v[i]) }
      } else {
        doubles.append(contentsOf: v[from..<to])
      }
    case .boolean(let v, _):
      if let valid {
        for i in from..<to where valid[i] { bools.append(v[i]) }
      } else {
        bools.append(contentsOf: v[from..<to])
      }
    case .string(let b, let offsets, _):
      if let valid {
        for i in from..<to where valid[i] {
          bytes.append(contentsOf: b[offsets[i]..<offsets[i + 1]])
          ends.append(bytes.count)
        }
      } else {
        let shift = bytes.count - offsets[from]
        bytes.append(contentsOf: b[offsets[from]..<offsets[to]])
        for i in (from + 1)...to { ends.append(offsets[i] + shift) }
      }
    }
  }

  /// Start offset of string value `i`.
  @inline(__always) func start(_ i: Int) -> Int { i == 0 ? 0 : ends[i - 1] }
}

/// A dictionary of distinct strings, built with an open-addressing table (no allocation per value).
struct StringDictionary {
  var bytes: [UInt8] = []
  var ends: [Int] = []
  private var table: [Int32]
  private var mask: Int
  var plainSize = 0

  init() {
    table = [Int32](repeating: -1, count: 1024)
    mask = 1023
  }

  var count: Int { ends.count }
  func start(_ i: Int) -> Int { i == 0 ? 0 : ends[i - 1] }

  /// A 64-bit hash of `p[from..<to]`, eight bytes per step: strings here are emails, serial
  /// numbers and 64-digit pseudonyms, hashed once per row, so a byte-at-a-time hash was the
  /// writer's hottest loop.
  private static func hash(_ p: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int {
    let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
    var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(truncatingIfNeeded: to - from)
    guard to > from, let start = p.baseAddress else { return Int(truncatingIfNeeded: h) }
    var i = from
    let base = UnsafeRawPointer(start)
    while i + 8 <= to {
      let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      h = (h ^ word) &* multiplier
      h ^= h >> 29
      i += 8
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while i < to {
      tail |= UInt64(p[i]) << shift
      shift += 8
      i += 1
    }
    h = (h ^ tail) &* multiplier
    return Int(truncatingIfNeeded: h ^ (h >> 32))
  }

  /// The index of `source[from..<to]`, inserting it if new.
  mutating func index(of source: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int32 {
    var slot = StringDictionary.hash(source, from, to) & mask
    let length = to - from
    while true {
      let entry = table[slot]
      if entry < 0 { break }
      let s = start(Int(entry))
      if ends[Int(entry)] - s == length {
        let equal = bytes.withUnsafeBufferPointer { d in
          length == 0 || memcmp(d.baseAddress! + s, source.baseAddress! + from, length) == 0
        }
        if equal { return entry }
      }
      slot = (slot + 1) & mask
    }
    let id = Int32(ends.count)
    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[from..<to]))
    ends.append(bytes.count)
    plainSize += 4 + length
    table[slot] = id
    if ends.count * 2 > table.count { grow() }
    return id
  }

  private mutating func grow() {
    table = [Int32](repeating: -1, count: table.count * 2)
    mask = table.count - 1
    bytes.withUnsafeBufferPointer { d in
      for id in 0..<ends.count {
        var slot = StringDictionary.hash(d, start(id), ends[id]) & mask
        while table[slot] >= 0 { slot = (slot + 1) & mask }
        table[slot] = Int32(id)
      }
    }
  }
}

/// Compares two byte ranges as unsigned bytes, lexicographically (Parquet's order for strings).
func lessBytes(
  _ a: UnsafeBufferPointer<UInt8>, _ aFrom: Int, _ aTo: Int, _ b: UnsafeBufferPointer<UInt8>, _ bFrom: Int, _ bTo: Int
)
  -> Bool
{
  let n = min(aTo - aFrom, bTo - bFrom)
  if n > 0 {
    let order = memcmp(a.baseAddress! + aFrom, b.baseAddress! + bFrom, n)
    if order != 0 { return order < 0 }
  }
  return aTo - aFrom < bTo - bFrom
}

/// Running min/max/null count over a page or chunk.
struct StatsAccumulator {
  var minInt = Int64.max
  var maxInt = Int64.min
  var minDouble = Double.infinity
  var maxDouble = -Double.infinity
  var sawDouble = false
  var sawFalse = false
  var sawTrue = false
  // Strings: [from, to) into the buffer that holds them (the column buffer or the dictionary).
  var minString: (Int, Int)?
  var maxString: (Int, Int)?
  var nulls: Int64 = 0
  var values = 0

  func raw(_ type: ParquetType, strings: [UInt8]) -> RawStatistics {
    var s = RawStatistics()
    s.nullCount = nulls
    switch type {
    case .int64:
      if values > 0 {
        s.min = littleEndian(UInt64(bitPattern: minInt))
        s.max = littleEndian(UInt64(bitPattern: maxInt))
      }
    case .double:
      if sawDouble {
        // Zero's sign is ambiguous to readers: the spec asks for -0.0 as a min and +0.0 as a max.
        s.min = littleEndian((minDouble == 0 ? -0.0 : minDouble).bitPattern)
        s.max = littleEndian((maxDouble == 0 ? 0.0 : maxDouble).bitPattern)
      }
    case .boolean:
      if sawFalse || sawTrue {
        s.min = [sawFalse ? 0 : 1]
        s.max = [sawTrue ? 1 : 0]
      }
    case .string:
      if let minString, let maxString {
        s.min = Array(strings[minString.0..<minString.1])
        s.max = Array(strings[maxString.0..<maxString.1])
      }
    }
    return s
  }

  private func littleEndian(_ v: UInt64) -> [UInt8] {
    var b: [UInt8] = []
    b.appendLittleEndian(v)
    return b
  }
}

/// Writes one column chunk: optional dictionary page, then data pages.
struct ChunkWriter {
  let column: ParquetColumn
  let options: ParquetWriterOptions
  let compressor: ZstdCompressor?
  let start: Int
  private var levels: [UInt32] = []
  private var page: [UInt8] = []
  private var compressed: [UInt8] = []

  init(column: ParquetColumn, options: ParquetWriterOptions, compressor: ZstdCompressor?, start: Int) {
    self.column = column
    self.options = options
    self.compressor = compressor
    self.start = start
  }

  mutating func write(_ buffer: ColumnBuffer, into output: inout [UInt8]) throws(ParquetError) -> ColumnMeta {
    let base = output.count
    var meta = ColumnMeta()
    meta.type = PhysicalType.of(column.type)
    meta.path = [column.name]
    meta.codec = options.compression.codecCode
    meta.numValues = Int64(buffer.rows)

    // Strings: a dictionary when it stays under the limit, else PLAIN for the whole chunk.
    var dictionary: StringDictionary?
    var indices: [UInt32] = []
    if column.type == .string && buffer.valueCount > 0 {
      var d = StringDictionary()
      indices.reserveCapacity(buffer.valueCount)
      var fits = true
      buffer.bytes.withUnsafeBufferPointer { p in
        for i in 0..<buffer.valueCount {
          indices.append(UInt32(d.index(of: p, buffer.start(i), buffer.ends[i])))
          if d.plainSize > options.dictionaryPageLimitBytes {
            fits = false
            break
          }
        }
      }
      if fits { dictionary = d } else { indices = [] }
    }

    var totalUncompressed = 0
    if let dictionary {
      meta.encodings = [EncodingCode.plain, EncodingCode.rle, EncodingCode.rleDictionary]
      page.removeAll(keepingCapacity: true)
      for i in 0..<dictionary.count {
        let s = dictionary.start(i)
        page.appendLittleEndian(UInt32(dictionary.ends[i] - s))
        page.append(contentsOf: dictionary.bytes[s..<dictionary.ends[i]])
      }
      meta.dictionaryPageOffset = Int64(start + output.count - base)
      var header = PageHeader()
      header.type = PageHeader.dictionaryPage
      header.numValues = Int32(dictionary.count)
      header.encoding = EncodingCode.plain
      totalUncompressed += try writePage(header, into: &output)
    } else {
      meta.encodings = [EncodingCode.plain, EncodingCode.rle]
    }
    meta.dataPageOffset = Int64(start + output.count - base)

    var chunkStats = StatsAccumulator()
    let indexWidth = dictionary.map { max(bitWidth(UInt32(max($0.count - 1, 0))), 1) } ?? 0
    var row = 0
    var value = 0
    while row < buffer.rows {
      // The page's rows: until its values' estimated size reaches the page size.
      let firstRow = row
      let firstValue = value
      var size = 0
      while row < buffer.rows && size < options.pageSizeBytes {
        if !column.optional || buffer.defined[row] {
          switch column.type {
          case .int64, .double: size += 8
          case .boolean: size += 1  // counts bits as bytes: keeps pages of booleans to a sane row count
          case .string:
            size += dictionary != nil ? (indexWidth + 7) / 8 : 4 + buffer.ends[value] - buffer.start(value)
          }
          value += 1
        }
        row += 1
      }
      page.removeAll(keepingCapacity: true)
      if column.optional {
        levels.removeAll(keepingCapacity: true)
        for r in firstRow..<row { levels.append(buffer.defined[r] ? 1 : 0) }
        var encoder = RLEHybridEncoder(width: 1)
        levels.withUnsafeBufferPointer { encoder.encode($0) }
        page.appendLittleEndian(UInt32(encoder.bytes.count))
        page.append(contentsOf: encoder.bytes)
      }
      var stats = StatsAccumulator()
      stats.nulls = Int64((row - firstRow) - (value - firstValue))
      stats.values = value - firstValue
      switch column.type {
      case .int64:
        for i in firstValue..<value {
          let v = buffer.ints[i]
          page.appendLittleEndian(UInt64(bitPattern: v))
          stats.minInt = min(stats.minInt, v)
          stats.maxInt = max(stats.maxInt, v)
        }
      case .double:
        for i in firstValue..<value {
          let v = buffer.doubles[i]
          page.appendLittleEndian(v.bitPattern)
          if !v.isNaN {
            stats.sawDouble = true
            stats.minDouble = min(stats.minDouble, v)
            stats.maxDouble = max(stats.maxDouble, v)
          }
        }
      case .boolean:
        var byte: UInt8 = 0
        var bit = 0
        for i in firstValue..<value {
          let v = buffer.bools[i]
          if v { byte |= 1 << UInt8(bit) }
          if v { stats.sawTrue = true } else { stats.sawFalse = true }
          bit += 1
          if bit == 8 {
            page.append(byte)
            byte = 0
            bit = 0
          }
        }
        if bit > 0 { page.append(byte) }
      case .string:
        if let dictionary {
          page.append(UInt8(indexWidth))
          var encoder = RLEHybridEncoder(width: indexWidth)
          indices.withUnsafeBufferPointer { encoder.encode(UnsafeBufferPointer(rebasing: $0[firstValue..<value])) }
          page.append(contentsOf: encoder.bytes)
          dictionary.bytes.withUnsafeBufferPointer { d in
            var minIndex = -1
            var maxIndex = -1
            for i in firstValue..<value {
              let e = Int(indices[i])
              if e == minIndex || e == maxIndex { continue }
              let (s, t) = (dictionary.start(e), dictionary.ends[e])
              if minIndex < 0 || lessBytes(d, s, t, d, dictionary.start(minIndex), dictionary.ends[minIndex]) {
                minIndex = e
              }
              if maxIndex < 0 || lessBytes(d, dictionary.start(maxIndex), dictionary.ends[maxIndex], d, s, t) {
                maxIndex = e
              }
            }
            if minIndex >= 0 {
              stats.minString = (dictionary.start(minIndex), dictionary.ends[minIndex])
              stats.maxString = (dictionary.start(maxIndex), dictionary.ends[maxIndex])
            }
          }
        } else {
          buffer.bytes.withUnsafeBufferPointer { d in
            for i in firstValue..<value {
              let (s, t) = (buffer.start(i), buffer.ends[i])
              page.appendLittleEndian(UInt32(t - s))
              page.append(contentsOf: UnsafeBufferPointer(rebasing: d[s..<t]))
              if let m = stats.minString {
                if lessBytes(d, s, t, d, m.0, m.1) { stats.minString = (s, t) }
              } else {
                stats.minString = (s, t)
              }
              if let m = stats.maxString {
                if lessBytes(d, m.0, m.1, d, s, t) { stats.maxString = (s, t) }
              } else {
                stats.maxString = (s, t)
              }
            }
          }
        }
      }
      let strings = dictionary?.bytes ?? buffer.bytes
      var header = PageHeader()
      header.type = PageHeader.dataPage
      header.numValues = Int32(row - firstRow)
      header.encoding = dictionary != nil ? EncodingCode.rleDictionary : EncodingCode.plain
      if options.pageStatistics { header.statistics = stats.raw(column.type, strings: strings) }
      totalUncompressed += try writePage(header, into: &output)
      merge(&chunkStats, stats, strings: strings)
    }
    meta.statistics = chunkStats.raw(column.type, strings: dictionary?.bytes ?? buffer.bytes)
    meta.uncompressedSize = Int64(totalUncompressed)
    meta.compressedSize = Int64(output.count - base)
    return meta
  }

  private func merge(_ chunk: inout StatsAccumulator, _ page: StatsAccumulator, strings: [UInt8]) {
    chunk.nulls += page.nulls
    chunk.values += page.values
    chunk.minInt = min(chunk.minInt, page.minInt)
    chunk.maxInt = max(chunk.maxInt, page.maxInt)
    if page.sawDouble {
      chunk.sawDouble = true
      chunk.minDouble = min(chunk.minDouble, page.minDouble)
      chunk.maxDouble = max(chunk.maxDouble, page.maxDouble)
    }
    chunk.sawFalse = chunk.sawFalse || page.sawFalse
    chunk.sawTrue = chunk.sawTrue || page.sawTrue
    strings.withUnsafeBufferPointer { d in
      if let p = page.minString {
        if let c = chunk.minString {
          if lessBytes(d, p.0, p.1, d, c.0, c.1) { chunk.minString = p }
        } else {
          chunk.minString = p
        }
      }
      if let p = page.maxString {
        if let c = chunk.maxString {
          if lessBytes(d, c.0, c.1, d, p.0, p.1) { chunk.maxString = p }
        } else {
          chunk.maxString = p
        }
      }
    }
  }

  /// Compresses `page`, writes its header and body; returns the uncompressed size with the header.
  private mutating func writePage(_ header: PageHeader, into output: inout [UInt8]) throws(ParquetError) -> Int {
    guard page.count <= Int(Int32.max) else { throw .invalidInput("page larger than 2 GiB") }
    var h = header
    h.uncompressedSize = Int32(page.count)
    let body: [UInt8]
    if let compressor {
      compressed.removeAll(keepingCapacity: true)
      _ = try compressor.compress(page, into: &compressed)
      body = compressed
    } else {
      body = page
    }
    h.compressedSize = Int32(body.count)
    var w = ThriftWriter()
    h.write(&w)
    output.append(contentsOf: w.bytes)
    output.append(contentsOf: body)
    return w.bytes.count + page.count
  }
}
