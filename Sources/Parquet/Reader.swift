/// A column chunk's footer metadata: how it is stored and its statistics.
public struct ParquetColumnChunk: Sendable, Equatable {
  /// The codec's name as in parquet.thrift ("ZSTD", "UNCOMPRESSED", "SNAPPY").
  public var codec: String
  /// The encodings the chunk uses, as named in parquet.thrift ("PLAIN", "RLE", "RLE_DICTIONARY").
  public var encodings: [String]
  /// Values (rows, for a flat column) in the chunk.
  public var numValues: Int64
  /// Bytes on disk, page headers included.
  public var compressedSize: Int64
  /// Bytes before compression, page headers included.
  public var uncompressedSize: Int64
  /// The chunk's statistics, if the writer stored them.
  public var statistics: ParquetStatistics?
}

/// A row group's footer metadata.
public struct ParquetRowGroup: Sendable, Equatable {
  /// Rows in the group.
  public var numRows: Int64
  /// One chunk per schema column, in schema order.
  public var columns: [ParquetColumnChunk]
}

/// A Parquet file held in memory: its footer is parsed and checked on `init`; columns decode on demand.
public struct ParquetFile: Sendable {
  /// The flat schema.
  public let schema: ParquetSchema
  /// The row groups' metadata (statistics let a reader skip groups).
  public let rowGroups: [ParquetRowGroup]
  /// Rows in the file.
  public let numRows: Int64
  /// The footer's created_by, if any.
  public let createdBy: String?
  /// The footer's key/value metadata.
  public let keyValueMetadata: [KeyValue]

  /// One footer key/value pair.
  public struct KeyValue: Sendable, Equatable {
    /// The key.
    public var key: String
    /// The value, if any.
    public var value: String?
  }

  private let bytes: [UInt8]
  private let groups: [RowGroupMeta]
  // Each chunk's [start, end) in `bytes`, checked against the file at init.
  private let ranges: [[Range<Int>]]

  /// Parses and checks the footer; throws for anything this module cannot read.
  public init(bytes: [UInt8]) throws(ParquetError) {
    self.bytes = bytes
    guard bytes.count >= 12 else { throw .truncated("\(bytes.count) bytes is too short for Parquet", offset: 0) }
    let magic = Array("PAR1".utf8)
    guard Array(bytes[0..<4]) == magic else { throw .malformed("no PAR1 magic at the start", offset: 0) }
    let tail = Array(bytes[(bytes.count - 4)...])
    if tail == Array("PARE".utf8) { throw .unsupported("encrypted footer (PARE)") }
    guard tail == magic else { throw .malformed("no PAR1 magic at the end", offset: bytes.count - 4) }
    let footerLength = Int(loadUInt32(bytes, bytes.count - 8))
    let footerEnd = bytes.count - 8
    guard footerLength <= footerEnd - 4 else {
      throw .truncated("footer of \(footerLength) bytes in a \(bytes.count)-byte file", offset: footerEnd)
    }
    let footerStart = footerEnd - footerLength
    var reader = ThriftReader(bytes, from: footerStart, to: footerEnd)
    let meta = try FileMeta.read(&reader)

    // The schema: a root with only leaf children.
    guard let root = meta.schema.first else { throw .malformed("empty schema", offset: footerStart) }
    let childCount = Int(root.numChildren ?? 0)
    if let nested = meta.schema.dropFirst().first(where: { ($0.numChildren ?? 0) > 0 }) {
      throw .unsupported("nested column \"\(nested.name)\" (flat schemas only)")
    }
    guard childCount > 0, meta.schema.count == childCount + 1 else {
      throw .malformed(
        "schema of \(meta.schema.count) elements under a root of \(childCount) children", offset: footerStart)
    }
    var columns: [ParquetColumn] = []
    for element in meta.schema.dropFirst() {
      columns.append(try ParquetFile.column(element))
    }
    schema = ParquetSchema(columns)

    // Row groups: one chunk per column, of the schema's type, inside the file before the footer.
    var groupInfos: [ParquetRowGroup] = []
    var ranges: [[Range<Int>]] = []
    var rows: Int64 = 0
    for (g, group) in meta.rowGroups.enumerated() {
      guard group.columns.count == columns.count else {
        throw .malformed(
          "row group \(g) has \(group.columns.count) columns, schema \(columns.count)", offset: footerStart)
      }
      guard group.numRows >= 0, group.numRows <= Int64(Int32.max) else {
        throw .malformed("row group \(g) has \(group.numRows) rows", offset: footerStart)
      }
      rows += group.numRows
      var chunks: [ParquetColumnChunk] = []
      var chunkRanges: [Range<Int>] = []
      for (c, chunk) in group.columns.enumerated() {
        let column = columns[c]
        let at = "row group \(g) column \"\(column.name)\""
        guard chunk.type == PhysicalType.of(column.type) else {
          throw .malformed("\(at) is \(PhysicalType.name(chunk.type)) in a \(column.type) column", offset: footerStart)
        }
        guard chunk.path == [column.name] else { throw .malformed("\(at) has path \(chunk.path)", offset: footerStart) }
        guard [CodecCode.uncompressed, CodecCode.snappy, CodecCode.zstd].contains(chunk.codec) else {
          throw .unsupported("\(at) uses codec \(CodecCode.name(chunk.codec)) (reads UNCOMPRESSED, SNAPPY, ZSTD)")
        }
        guard chunk.numValues == group.numRows else {
          throw .malformed("\(at) has \(chunk.numValues) values for \(group.numRows) rows", offset: footerStart)
        }
        var start = chunk.dataPageOffset
        if let d = chunk.dictionaryPageOffset, d > 0, d < start || start == 0 { start = d }
        let inside =
          start >= 4 && chunk.compressedSize >= 0 && start <= Int64(footerStart)
          && chunk.compressedSize <= Int64(footerStart) - start
        // An empty row group's chunks are never read (pyarrow writes them without a data page offset).
        if !inside && group.numRows > 0 {
          throw .malformed(
            "\(at) spans bytes \(start)+\(chunk.compressedSize), outside the data before the footer",
            offset: footerStart)
        }
        chunkRanges.append(group.numRows == 0 ? 4..<4 : Int(start)..<Int(start + chunk.compressedSize))
        chunks.append(
          ParquetColumnChunk(
            codec: CodecCode.name(chunk.codec), encodings: chunk.encodings.map(EncodingCode.name),
            numValues: chunk.numValues, compressedSize: chunk.compressedSize, uncompressedSize: chunk.uncompressedSize,
            statistics: chunk.statistics?.decoded(column.type)))
      }
      groupInfos.append(ParquetRowGroup(numRows: group.numRows, columns: chunks))
      ranges.append(chunkRanges)
    }
    guard rows == meta.numRows else {
      throw .malformed("row groups hold \(rows) rows, the footer says \(meta.numRows)", offset: footerStart)
    }
    numRows = rows
    rowGroups = groupInfos
    groups = meta.rowGroups
    self.ranges = ranges
    createdBy = meta.createdBy
    keyValueMetadata = meta.keyValues.map { KeyValue(key: $0.0, value: $0.1) }
  }

  /// The column a leaf schema element describes, or why it is refused.
  private static func column(_ e: SchemaElement) throws(ParquetError) -> ParquetColumn {
    let name = e.name
    if let n = e.numChildren, n > 0 { throw .unsupported("nested column \"\(name)\"") }
    let optional: Bool
    switch e.repetition {
    case 0: optional = false
    case 1: optional = true
    case 2: throw .unsupported("repeated column \"\(name)\"")
    default: throw .unsupported("column \"\(name)\" without a valid repetition")
    }
    guard let physical = e.type else { throw .unsupported("column \"\(name)\" without a physical type") }
    let annotation =
      "logical type \(e.logicalType.map(String.init) ?? "none"), converted type \(e.convertedType.map(String.init) ?? "none")"
    switch physical {
    case PhysicalType.int64:
      if e.logicalType == 8 {
        guard e.timestampUTC == true, e.timestampUnit == 1 else {
          throw .unsupported(
            "column \"\(name)\": timestamps other than UTC milliseconds (unit \(e.timestampUnit ?? 0), UTC \(e.timestampUTC ?? false))"
          )
        }
        return ParquetColumn(name: name, type: .int64, optional: optional, timestampMillisUTC: true)
      }
      if e.logicalType == nil && e.convertedType == 9 {
        return ParquetColumn(name: name, type: .int64, optional: optional, timestampMillisUTC: true)
      }
      let plainInteger =
        (e.logicalType == nil || (e.logicalType == 10 && e.integerWidth == 64 && e.integerSigned == true))
        && (e.convertedType == nil || e.convertedType == 18)
      guard plainInteger else { throw .unsupported("INT64 column \"\(name)\" with \(annotation)") }
      return ParquetColumn(name: name, type: .int64, optional: optional)
    case PhysicalType.double:
      guard e.logicalType == nil && e.convertedType == nil else {
        throw .unsupported("DOUBLE column \"\(name)\" with \(annotation)")
      }
      return ParquetColumn(name: name, type: .double, optional: optional)
    case PhysicalType.boolean:
      return ParquetColumn(name: name, type: .boolean, optional: optional)
    case PhysicalType.byteArray:
      guard e.logicalType == 1 || (e.logicalType == nil && e.convertedType == 0) else {
        throw .unsupported("BYTE_ARRAY column \"\(name)\" that is not a STRING (\(annotation))")
      }
      return ParquetColumn(name: name, type: .string, optional: optional)
    default:
      throw .unsupported(
        "column \"\(name)\" of type \(PhysicalType.name(physical)) (reads INT64, DOUBLE, BOOLEAN, STRING)")
    }
  }

  /// The index of the column with this name.
  public func columnIndex(named name: String) -> Int? {
    schema.columns.firstIndex { $0.name == name }
  }

  /// Decodes one column of one row group.
  public func readColumn(_ column: Int, rowGroup: Int) throws(ParquetError) -> ParquetColumnValues {
    guard schema.columns.indices.contains(column), groups.indices.contains(rowGroup) else {
      throw .invalidInput("no column \(column) in row group \(rowGroup)")
    }
    do {
      var decoder = ChunkDecoder(
        bytes: bytes, range: ranges[rowGroup][column], column: schema.columns[column],
        codec: groups[rowGroup].columns[column].codec, rows: Int(groups[rowGroup].numRows))
      return try decoder.decode()
    } catch {
      throw .inColumn(schema.columns[column].name, rowGroup: rowGroup, error)
    }
  }

  /// Decodes every column of one row group.
  public func readRowGroup(_ rowGroup: Int) throws(ParquetError) -> [ParquetColumnValues] {
    var columns: [ParquetColumnValues] = []
    for c in schema.columns.indices { columns.append(try readColumn(c, rowGroup: rowGroup)) }
    return columns
  }

  /// Every row as values (allocates per value: for tests and small files).
  public func rows() throws(ParquetError) -> [[ParquetValue]] {
    var rows: [[ParquetValue]] = []
    for g in groups.indices {
      let columns = try readRowGroup(g)
      for r in 0..<Int(groups[g].numRows) { rows.append(columns.map { $0[r] }) }
    }
    return rows
  }
}

/// Decodes one column chunk's pages into one `ParquetColumnValues`.
struct ChunkDecoder {
  let bytes: [UInt8]
  let range: Range<Int>
  let column: ParquetColumn
  let codec: Int32
  let rows: Int

  // Output.
  private var ints: [Int64] = []
  private var doubles: [Double] = []
  private var bools: [Bool] = []
  private var strings: [UInt8] = []
  private var offsets: [Int] = [0]
  private var valid: [Bool] = []
  // The dictionary, decoded as a column of its own (no nulls).
  private var dictionary: ParquetColumnValues?
  private var levels: [UInt32] = []
  private var indices: [UInt32] = []

  init(bytes: [UInt8], range: Range<Int>, column: ParquetColumn, codec: Int32, rows: Int) {
    self.bytes = bytes
    self.range = range
    self.column = column
    self.codec = codec
    self.rows = rows
  }

  mutating func decode() throws(ParquetError) -> ParquetColumnValues {
    var position = range.lowerBound
    var rowsRead = 0
    var sawDataPage = false
    while rowsRead < rows {
      guard position < range.upperBound else {
        throw .truncated("column chunk ends after \(rowsRead) of \(rows) rows", offset: position)
      }
      var reader = ThriftReader(bytes, from: position, to: range.upperBound)
      let header = try PageHeader.read(&reader)
      let pageStart = reader.position
      guard header.compressedSize >= 0, header.uncompressedSize >= 0,
        Int(header.compressedSize) <= range.upperBound - pageStart
      else {
        throw .truncated("page of \(header.compressedSize) bytes past its column chunk", offset: pageStart)
      }
      let body = bytes[pageStart..<(pageStart + Int(header.compressedSize))]
      position = pageStart + Int(header.compressedSize)
      switch header.type {
      case PageHeader.dictionaryPage:
        guard dictionary == nil, !sawDataPage else {
          throw .malformed("dictionary page after another page", offset: pageStart)
        }
        guard header.encoding == EncodingCode.plain || header.encoding == EncodingCode.plainDictionary else {
          throw .unsupported("dictionary page encoding \(EncodingCode.name(header.encoding))")
        }
        guard header.numValues >= 0 else {
          throw .malformed("dictionary of \(header.numValues) values", offset: pageStart)
        }
        let data = try Decompressor.decompress(
          codec: codec, body, uncompressedSize: Int(header.uncompressedSize), offset: pageStart)
        dictionary = try ChunkDecoder.plainColumn(column.type, data, 0, count: Int(header.numValues), offset: pageStart)
      case PageHeader.dataPage, PageHeader.dataPageV2:
        sawDataPage = true
        let count = Int(header.numValues)
        guard count > 0, count <= rows - rowsRead else {
          throw .malformed("data page of \(count) values with \(rows - rowsRead) rows left", offset: pageStart)
        }
        let data: [UInt8]
        var valuesStart = 0
        levels.removeAll(keepingCapacity: true)
        if header.type == PageHeader.dataPage {
          data = try Decompressor.decompress(
            codec: codec, body, uncompressedSize: Int(header.uncompressedSize), offset: pageStart)
          if column.optional {
            guard header.definitionLevelEncoding == EncodingCode.rle else {
              throw .unsupported("definition level encoding \(EncodingCode.name(header.definitionLevelEncoding))")
            }
            guard data.count >= 4 else { throw .truncated("definition levels' length", offset: pageStart) }
            let length = Int(loadUInt32(data, 0))
            guard length <= data.count - 4 else { throw .truncated("definition levels", offset: pageStart) }
            try decodeRLEHybrid(data, from: 4, to: 4 + length, width: 1, count: count, into: &levels)
            valuesStart = 4 + length
          }
        } else {
          let definitionLength = Int(header.definitionLevelsLength)
          guard header.repetitionLevelsLength == 0 else {
            throw .malformed("repetition levels in a flat column", offset: pageStart)
          }
          guard definitionLength >= 0, definitionLength <= body.count,
            Int(header.uncompressedSize) >= definitionLength
          else { throw .malformed("definition levels of \(definitionLength) bytes", offset: pageStart) }
          let levelBytes = Array(body.prefix(definitionLength))
          if column.optional {
            try decodeRLEHybrid(levelBytes, from: 0, to: levelBytes.count, width: 1, count: count, into: &levels)
          } else if definitionLength != 0 {
            throw .malformed("definition levels in a required column", offset: pageStart)
          }
          let rest = body.dropFirst(definitionLength)
          let restSize = Int(header.uncompressedSize) - definitionLength
          data =
            header.isCompressed
            ? try Decompressor.decompress(codec: codec, rest, uncompressedSize: restSize, offset: pageStart)
            : try Decompressor.decompress(
              codec: CodecCode.uncompressed, rest, uncompressedSize: restSize, offset: pageStart)
        }
        let present = column.optional ? levels.reduce(0) { $0 + Int($1) } : count
        try appendValues(header.encoding, data, valuesStart, present: present, count: count, offset: pageStart)
        rowsRead += count
      default:
        throw .unsupported("page type \(header.type)")
      }
    }
    let mask = column.optional && valid.contains(false) ? valid : nil
    switch column.type {
    case .int64: return .int64(ints, valid: mask)
    case .double: return .double(doubles, valid: mask)
    case .boolean: return .boolean(bools, valid: mask)
    case .string: return .string(bytes: strings, offsets: offsets, valid: mask)
    }
  }

  /// Decodes `present` values at `data[start...]` and spreads them over `count` rows by the levels.
  private mutating func appendValues(
    _ encoding: Int32, _ data: [UInt8], _ start: Int, present: Int, count: Int, offset: Int
  ) throws(ParquetError) {
    let values: ParquetColumnValues
    switch encoding {
    case EncodingCode.plain:
      values = try ChunkDecoder.plainColumn(column.type, data, start, count: present, offset: offset)
    case EncodingCode.rleDictionary, EncodingCode.plainDictionary:
      guard let dictionary else { throw .malformed("dictionary-encoded page without a dictionary", offset: offset) }
      indices.removeAll(keepingCapacity: true)
      if present > 0 {
        guard start < data.count else { throw .truncated("dictionary index bit width", offset: offset) }
        let width = Int(data[start])
        guard width <= 32 else { throw .malformed("dictionary index width \(width)", offset: offset) }
        try decodeRLEHybrid(data, from: start + 1, to: data.count, width: width, count: present, into: &indices)
      }
      let size = dictionary.count
      for i in indices where Int(i) >= size {
        throw .malformed("dictionary index \(i) in a dictionary of \(size)", offset: offset)
      }
      values = ChunkDecoder.gather(dictionary, indices)
    case EncodingCode.rle where column.type == .boolean:
      guard data.count - start >= 4 else { throw .truncated("boolean RLE length", offset: offset) }
      let length = Int(loadUInt32(data, start))
      guard length <= data.count - start - 4 else { throw .truncated("boolean RLE run", offset: offset) }
      indices.removeAll(keepingCapacity: true)
      try decodeRLEHybrid(data, from: start + 4, to: start + 4 + length, width: 1, count: present, into: &indices)
      values = .boolean(indices.map { $0 != 0 })
    default:
      throw .unsupported("data page encoding \(EncodingCode.name(encoding)) for a \(column.type) column")
    }
    // Spread: one slot per row, nulls as placeholders.
    var next = 0
    for r in 0..<count {
      let isDefined = !column.optional || levels[r] == 1
      if column.optional { valid.append(isDefined) }
      switch values {
      case .int64(let v, _): ints.append(isDefined ? v[next] : 0)
      case .double(let v, _): doubles.append(isDefined ? v[next] : 0)
      case .boolean(let v, _): bools.append(isDefined ? v[next] : false)
      case .string(let b, let o, _):
        if isDefined { strings.append(contentsOf: b[o[next]..<o[next + 1]]) }
        offsets.append(strings.count)
      }
      if isDefined { next += 1 }
    }
  }

  /// `count` PLAIN values of `type` from `data[start...]`.
  static func plainColumn(
    _ type: ParquetType, _ data: [UInt8], _ start: Int, count: Int, offset: Int
  ) throws(ParquetError) -> ParquetColumnValues {
    let available = data.count - start
    switch type {
    case .int64, .double:
      guard count <= available / 8 else {
        throw .truncated("\(count) PLAIN values in \(available) bytes", offset: offset)
      }
      var words = [UInt64](repeating: 0, count: count)
      data.withUnsafeBytes { raw in
        for i in 0..<count { words[i] = loadUInt64(raw, start + 8 * i) }
      }
      if type == .int64 { return .int64(words.map { Int64(bitPattern: $0) }) }
      return .double(words.map { Double(bitPattern: $0) })
    case .boolean:
      guard count <= available * 8 else {
        throw .truncated("\(count) PLAIN booleans in \(available) bytes", offset: offset)
      }
      var v = [Bool](repeating: false, count: count)
      for i in 0..<count { v[i] = data[start + i / 8] & (1 << UInt8(i % 8)) != 0 }
      return .boolean(v)
    case .string:
      guard count <= available / 4 else {
        throw .truncated("\(count) PLAIN strings in \(available) bytes", offset: offset)
      }
      var out: [UInt8] = []
      var offsets = [0]
      offsets.reserveCapacity(count + 1)
      var p = start
      for _ in 0..<count {
        guard data.count - p >= 4 else { throw .truncated("PLAIN string length", offset: offset) }
        let length = Int(loadUInt32(data, p))
        p += 4
        guard length <= data.count - p else { throw .truncated("PLAIN string of \(length) bytes", offset: offset) }
        out.append(contentsOf: data[p..<(p + length)])
        p += length
        offsets.append(out.count)
      }
      return .string(bytes: out, offsets: offsets)
    }
  }

  /// The dictionary's entries at these (checked) indices.
  static func gather(_ dictionary: ParquetColumnValues, _ indices: [UInt32]) -> ParquetColumnValues {
    switch dictionary {
    case .int64(let v, _): return .int64(indices.map { v[Int($0)] })
    case .double(let v, _): return .double(indices.map { v[Int($0)] })
    case .boolean(let v, _): return .boolean(indices.map { v[Int($0)] })
    case .string(let b, let o, _):
      var out: [UInt8] = []
      var offsets = [0]
      offsets.reserveCapacity(indices.count + 1)
      for i in indices {
        out.append(contentsOf: b[o[Int(i)]..<o[Int(i) + 1]])
        offsets.append(out.count)
      }
      return .string(bytes: out, offsets: offsets)
    }
  }
}
