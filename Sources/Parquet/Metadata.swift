// The footer's and pages' Thrift structs (parquet.thrift), only the fields this module writes or reads.

/// parquet.thrift's Type values.
enum PhysicalType {
  static let boolean: Int32 = 0
  static let int32: Int32 = 1
  static let int64: Int32 = 2
  static let int96: Int32 = 3
  static let float: Int32 = 4
  static let double: Int32 = 5
  static let byteArray: Int32 = 6
  static let fixedLenByteArray: Int32 = 7

  static func name(_ code: Int32) -> String {
    ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"][
      Int(code), default: "type \(code)"]
  }

  static func of(_ type: ParquetType) -> Int32 {
    switch type {
    case .int64: return int64
    case .double: return double
    case .string: return byteArray
    case .boolean: return boolean
    }
  }
}

extension Array {
  subscript(_ index: Int, default value: @autoclosure () -> Element) -> Element {
    indices.contains(index) ? self[index] : value()
  }
}

/// Min, max and null count of a page or column chunk, as a reader would use them to skip data.
public struct ParquetStatistics: Sendable, Equatable {
  /// The smallest non-null value (nil when every value is null, or the writer did not say).
  public var min: ParquetValue?
  /// The largest non-null value.
  public var max: ParquetValue?
  /// How many nulls.
  public var nullCount: Int64?
  /// How many distinct values, when the writer counted them.
  public var distinctCount: Int64?

  /// Statistics with these fields.
  public init(min: ParquetValue?, max: ParquetValue?, nullCount: Int64?, distinctCount: Int64? = nil) {
    self.min = min
    self.max = max
    self.nullCount = nullCount
    self.distinctCount = distinctCount
  }
}

/// Statistics as stored: raw min/max bytes (plain encoding of the value).
struct RawStatistics {
  var min: [UInt8]?
  var max: [UInt8]?
  var nullCount: Int64?
  var distinctCount: Int64?
  // The pre-2.0 fields (max = 1, min = 2): signed order, trusted for numbers only.
  var legacyMin: [UInt8]?
  var legacyMax: [UInt8]?

  func write(_ w: inout ThriftWriter, field: Int16) {
    w.beginStruct(field)
    if let nullCount { w.i64(3, nullCount) }
    if let distinctCount { w.i64(4, distinctCount) }
    if let max { w.binary(5, max) }
    if let min { w.binary(6, min) }
    w.endStruct()
  }

  static func read(_ r: inout ThriftReader, _ type: ThriftType) throws(ParquetError) -> RawStatistics {
    var s = RawStatistics()
    try r.readStruct(type) { (r, id, t) throws(ParquetError) in
      switch id {
      case 1: s.legacyMax = try r.binary(t)
      case 2: s.legacyMin = try r.binary(t)
      case 3: s.nullCount = try r.i64(t)
      case 4: s.distinctCount = try r.i64(t)
      case 5: s.max = try r.binary(t)
      case 6: s.min = try r.binary(t)
      default: try r.skip(t)
      }
    }
    return s
  }

  /// Decoded for a column of this type; values of the wrong width are dropped, not trusted.
  func decoded(_ type: ParquetType) -> ParquetStatistics {
    var minBytes = min
    var maxBytes = max
    if minBytes == nil && maxBytes == nil && type != .string {
      minBytes = legacyMin
      maxBytes = legacyMax
    }
    func value(_ bytes: [UInt8]?) -> ParquetValue? {
      guard let bytes else { return nil }
      switch type {
      case .int64:
        guard bytes.count == 8 else { return nil }
        return .int64(Int64(bitPattern: bytes.withUnsafeBytes { loadUInt64($0, 0) }))
      case .double:
        guard bytes.count == 8 else { return nil }
        return .double(Double(bitPattern: bytes.withUnsafeBytes { loadUInt64($0, 0) }))
      case .boolean:
        guard bytes.count == 1 else { return nil }
        return .bool(bytes[0] != 0)
      case .string:
        return .string(String(decoding: bytes, as: UTF8.self))
      }
    }
    return ParquetStatistics(
      min: value(minBytes), max: value(maxBytes), nullCount: nullCount, distinctCount: distinctCount)
  }
}

/// One schema element (the root or a leaf column).
struct SchemaElement {
  var type: Int32?
  var repetition: Int32?
  var name = ""
  var numChildren: Int32?
  var convertedType: Int32?
  // The logical type union's member id (1 STRING, 8 TIMESTAMP, 10 INTEGER, ...), and for
  // TIMESTAMP its UTC flag and unit member id (1 MILLIS, 2 MICROS, 3 NANOS); for INTEGER its width and sign.
  var logicalType: Int16?
  var timestampUTC: Bool?
  var timestampUnit: Int16?
  var integerWidth: Int64?
  var integerSigned: Bool?

  static func read(_ r: inout ThriftReader, _ type: ThriftType) throws(ParquetError) -> SchemaElement {
    var e = SchemaElement()
    try r.readStruct(type) { (r, id, t) throws(ParquetError) in
      switch id {
      case 1: e.type = try r.i32(t)
      case 3: e.repetition = try r.i32(t)
      case 4: e.name = try r.string(t)
      case 5: e.numChildren = try r.i32(t)
      case 6: e.convertedType = try r.i32(t)
      case 10:
        try r.readStruct(t) { (r, member, mt) throws(ParquetError) in
          e.logicalType = member
          switch member {
          case 8:
            try r.readStruct(mt) { (r, fid, ft) throws(ParquetError) in
              switch fid {
              case 1: e.timestampUTC = try r.bool(ft)
              case 2:
                try r.readStruct(ft) { (r, unit, ut) throws(ParquetError) in
                  e.timestampUnit = unit
                  try r.skip(ut)
                }
              default: try r.skip(ft)
              }
            }
          case 10:
            try r.readStruct(mt) { (r, fid, ft) throws(ParquetError) in
              switch fid {
              case 1: e.integerWidth = try r.i64(ft)
              case 2: e.integerSigned = try r.bool(ft)
              default: try r.skip(ft)
              }
            }
          default: try r.skip(mt)
          }
        }
      default: try r.skip(t)
      }
    }
    return e
  }
}

/// ColumnMetaData.
struct ColumnMeta {
  var type: Int32 = -1
  var encodings: [Int32] = []
  var path: [String] = []
  var codec: Int32 = 0
  var numValues: Int64 = 0
  var uncompressedSize: Int64 = 0
  var compressedSize: Int64 = 0
  var dataPageOffset: Int64 = 0
  var dictionaryPageOffset: Int64?
  var statistics: RawStatistics?

  func write(_ w: inout ThriftWriter, field: Int16) {
    w.beginStruct(field)
    w.i32(1, type)
    w.listHeader(2, .i32, count: encodings.count)
    for e in encodings { w.i32Element(e) }
    w.listHeader(3, .binary, count: path.count)
    for p in path { w.binaryElement(Array(p.utf8)) }
    w.i32(4, codec)
    w.i64(5, numValues)
    w.i64(6, uncompressedSize)
    w.i64(7, compressedSize)
    w.i64(9, dataPageOffset)
    if let dictionaryPageOffset { w.i64(11, dictionaryPageOffset) }
    statistics?.write(&w, field: 12)
    w.endStruct()
  }

  static func read(_ r: inout ThriftReader, _ type: ThriftType) throws(ParquetError) -> ColumnMeta {
    var m = ColumnMeta()
    var seen: Set<Int16> = []
    try r.readStruct(type) { (r, id, t) throws(ParquetError) in
      seen.insert(id)
      switch id {
      case 1: m.type = try r.i32(t)
      case 2:
        let (et, n) = try r.listHeader(t)
        for _ in 0..<n { m.encodings.append(try r.i32Element(et)) }
      case 3:
        let (et, n) = try r.listHeader(t)
        for _ in 0..<n { m.path.append(try r.string(et)) }
      case 4: m.codec = try r.i32(t)
      case 5: m.numValues = try r.i64(t)
      case 6: m.uncompressedSize = try r.i64(t)
      case 7: m.compressedSize = try r.i64(t)
      case 9: m.dataPageOffset = try r.i64(t)
      case 11: m.dictionaryPageOffset = try r.i64(t)
      case 12: m.statistics = try RawStatistics.read(&r, t)
      default: try r.skip(t)
      }
    }
    for required: Int16 in [1, 2, 3, 4, 5, 6, 7, 9] where !seen.contains(required) {
      throw r.error("ColumnMetaData lacks required field \(required)")
    }
    return m
  }
}

/// A row group: its column chunks' metadata.
struct RowGroupMeta {
  var columns: [ColumnMeta] = []
  var totalByteSize: Int64 = 0
  var numRows: Int64 = 0
  var fileOffset: Int64 = 0
  var totalCompressedSize: Int64 = 0

  func write(_ w: inout ThriftWriter) {
    w.beginElement()
    w.listHeader(1, .struct, count: columns.count)
    var chunkOffset = fileOffset
    for c in columns {
      w.beginElement()
      // file_offset: deprecated; the chunk's first byte, as most writers put it.
      w.i64(2, chunkOffset)
      c.write(&w, field: 3)
      w.endStruct()
      chunkOffset += c.compressedSize
    }
    w.i64(2, totalByteSize)
    w.i64(3, numRows)
    w.i64(5, fileOffset)
    w.i64(6, totalCompressedSize)
    w.endStruct()
  }

  static func read(_ r: inout ThriftReader, _ type: ThriftType) throws(ParquetError) -> RowGroupMeta {
    var g = RowGroupMeta()
    try r.readStruct(type) { (r, id, t) throws(ParquetError) in
      switch id {
      case 1:
        let (et, n) = try r.listHeader(t)
        for _ in 0..<n {
          var meta: ColumnMeta?
          try r.readStruct(et) { (r, cid, ct) throws(ParquetError) in
            switch cid {
            case 1: throw .unsupported("column chunks in other files (ColumnChunk.file_path)")
            case 3: meta = try ColumnMeta.read(&r, ct)
            case 8, 9: throw .unsupported("encrypted columns")
            default: try r.skip(ct)
            }
          }
          guard let meta else { throw r.error("ColumnChunk without meta_data") }
          g.columns.append(meta)
        }
      case 2: g.totalByteSize = try r.i64(t)
      case 3: g.numRows = try r.i64(t)
      default: try r.skip(t)
      }
    }
    return g
  }
}

/// FileMetaData.
struct FileMeta {
  var version: Int32 = 2
  var schema: [SchemaElement] = []
  var numRows: Int64 = 0
  var rowGroups: [RowGroupMeta] = []
  var keyValues: [(String, String?)] = []
  var createdBy: String?

  static func read(_ r: inout ThriftReader) throws(ParquetError) -> FileMeta {
    var f = FileMeta()
    var seen: Set<Int16> = []
    try r.readStruct { (r, id, t) throws(ParquetError) in
      seen.insert(id)
      switch id {
      case 1: f.version = try r.i32(t)
      case 2:
        let (et, n) = try r.listHeader(t)
        for _ in 0..<n { f.schema.append(try SchemaElement.read(&r, et)) }
      case 3: f.numRows = try r.i64(t)
      case 4:
        let (et, n) = try r.listHeader(t)
        for _ in 0..<n { f.rowGroups.append(try RowGroupMeta.read(&r, et)) }
      case 5:
        let (et, n) = try r.listHeader(t)
        for _ in 0..<n {
          var key = ""
          var value: String?
          try r.readStruct(et) { (r, kid, kt) throws(ParquetError) in
            switch kid {
            case 1: key = try r.string(kt)
            case 2: value = try r.string(kt)
            default: try r.skip(kt)
            }
          }
          f.keyValues.append((key, value))
        }
      case 6: f.createdBy = try r.string(t)
      case 8, 9: throw .unsupported("encrypted files")
      default: try r.skip(t)
      }
    }
    for required: Int16 in [1, 2, 3, 4] where !seen.contains(required) {
      throw r.error("FileMetaData lacks required field \(required)")
    }
    return f
  }
}

/// A page header: only the kinds this module reads.
struct PageHeader {
  var type: Int32 = -1
  var uncompressedSize: Int32 = 0
  var compressedSize: Int32 = 0
  var numValues: Int32 = 0
  var encoding: Int32 = 0
  var definitionLevelEncoding: Int32 = EncodingCode.rle
  var statistics: RawStatistics?
  // Data page v2 only.
  var numNulls: Int32 = 0
  var definitionLevelsLength: Int32 = 0
  var repetitionLevelsLength: Int32 = 0
  var isCompressed = true

  static let dataPage: Int32 = 0
  static let dictionaryPage: Int32 = 2
  static let dataPageV2: Int32 = 3

  func write(_ w: inout ThriftWriter) {
    w.i32(1, type)
    w.i32(2, uncompressedSize)
    w.i32(3, compressedSize)
    if type == PageHeader.dataPage {
      w.beginStruct(5)
      w.i32(1, numValues)
      w.i32(2, encoding)
      w.i32(3, definitionLevelEncoding)
      w.i32(4, EncodingCode.rle)
      statistics?.write(&w, field: 5)
      w.endStruct()
    } else {
      w.beginStruct(7)
      w.i32(1, numValues)
      w.i32(2, encoding)
      w.endStruct()
    }
    w.endStruct()
  }

  static func read(_ r: inout ThriftReader) throws(ParquetError) -> PageHeader {
    var h = PageHeader()
    try r.readStruct { (r, id, t) throws(ParquetError) in
      switch id {
      case 1: h.type = try r.i32(t)
      case 2: h.uncompressedSize = try r.i32(t)
      case 3: h.compressedSize = try r.i32(t)
      case 5, 7, 8:
        try r.readStruct(t) { (r, fid, ft) throws(ParquetError) in
          switch (id, fid) {
          case (_, 1): h.numValues = try r.i32(ft)
          case (5, 2), (7, 2), (8, 4): h.encoding = try r.i32(ft)
          case (5, 3): h.definitionLevelEncoding = try r.i32(ft)
          case (5, 5), (8, 8): h.statistics = try RawStatistics.read(&r, ft)
          case (8, 2): h.numNulls = try r.i32(ft)
          case (8, 5): h.definitionLevelsLength = try r.i32(ft)
          case (8, 6): h.repetitionLevelsLength = try r.i32(ft)
          case (8, 7): h.isCompressed = try r.bool(ft)
          default: try r.skip(ft)
          }
        }
      default: try r.skip(t)
      }
    }
    return h
  }
}
