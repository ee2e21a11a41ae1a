import Parquet
import SeededRandom
import Testing

/// Every supported column kind, required and optional.
let sampleSchema = ParquetSchema([
  ParquetColumn(name: "id", type: .int64),
  ParquetColumn(name: "ts", type: .int64, optional: true, timestampMillisUTC: true),
  ParquetColumn(name: "value", type: .double, optional: true),
  ParquetColumn(name: "label", type: .string, optional: true),
  ParquetColumn(name: "flag", type: .boolean, optional: true),
  ParquetColumn(name: "name", type: .string),
  ParquetColumn(name: "ok", type: .boolean),
  ParquetColumn(name: "x", type: .double),
])

let sampleWords = ["", "a", "walk", "step", "ünïcödé", "日本語", "emoji 🚶", "z", "é", String(repeating: "x", count: 300)]

/// Seeded rows for `sampleSchema`: nulls, empty strings, unicode, extreme numbers, repeats (for dictionaries).
func sampleRows(_ count: Int, seed: UInt64, distinctNames: Int = 50) -> [[ParquetValue]] {
  var random = SplitMix64(seed: seed)
  let extremes: [Double] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1.5]
  return (0..<count).map { i in
    let id: Int64 = i % 10 == 0 ? Int64(bitPattern: random.next()) : (i == 1 ? .min : (i == 2 ? .max : Int64(i)))
    return [
      .int64(id),
      random.chance(0.2) ? .null : .int64(1_700_000_000_000 + Int64(i) * 37),
      random.chance(0.15) ? .null : .double(i % 9 == 0 ? extremes[i / 9 % extremes.count] : random.uniform(-1e6...1e6)),
      random.chance(0.1) ? .null : .string(sampleWords[Int(random.next() % UInt64(sampleWords.count))]),
      random.chance(0.3) ? .null : .bool(random.chance(0.5)),
      .string("name-\(random.next() % UInt64(distinctNames))"),
      .bool(random.chance(0.9)),
      .double(Double(i) * 0.25),
    ]
  }
}

/// The rows as column batches, in the writer's fast format.
func columnBatches(_ rows: [[ParquetValue]], schema: ParquetSchema) -> [ParquetColumnValues] {
  schema.columns.indices.map { c in
    let valid = rows.map { $0[c] != .null }
    let mask = valid.contains(false) ? valid : nil
    switch schema.columns[c].type {
    case .int64: return .int64(rows.map { if case .int64(let v) = $0[c] { v } else { 0 } }, valid: mask)
    case .double: return .double(rows.map { if case .double(let v) = $0[c] { v } else { 0 } }, valid: mask)
    case .boolean: return .boolean(rows.map { if case .bool(let v) = $0[c] { v } else { false } }, valid: mask)
    case .string: return .strings(rows.map { if case .string(let v) = $0[c] { v } else { nil } })
    }
  }
}

func write(_ rows: [[ParquetValue]], schema: ParquetSchema = sampleSchema, options: ParquetWriterOptions) throws
  -> [UInt8]
{
  var writer = try ParquetWriter(schema: schema, options: options)
  for row in rows { try writer.append(row: row) }
  return try writer.finish()
}

/// Min, max and null count of one column over rows, computed the simple way, to check the writer's statistics.
func expectedStatistics(_ rows: ArraySlice<[ParquetValue]>, column: Int) -> ParquetStatistics {
  let values = rows.map { $0[column] }
  let nulls = Int64(values.filter { $0 == .null }.count)
  var ints: [Int64] = []
  var doubles: [Double] = []
  var strings: [[UInt8]] = []
  var bools: [Bool] = []
  for v in values {
    switch v {
    case .int64(let x): ints.append(x)
    case .double(let x): if !x.isNaN { doubles.append(x) }
    case .string(let s): strings.append(Array(s.utf8))
    case .bool(let b): bools.append(b)
    case .null: break
    }
  }
  func text(_ bytes: [UInt8]?) -> ParquetValue? { bytes.map { .string(String(decoding: $0, as: UTF8.self)) } }
  let byteOrder: ([UInt8], [UInt8]) -> Bool = { $0.lexicographicallyPrecedes($1) }
  if !ints.isEmpty { return .init(min: .int64(ints.min()!), max: .int64(ints.max()!), nullCount: nulls) }
  if !doubles.isEmpty {
    let lo = doubles.min()!
    let hi = doubles.max()!
    return .init(min: .double(lo == 0 ? -0.0 : lo), max: .double(hi == 0 ? 0.0 : hi), nullCount: nulls)
  }
  if !strings.isEmpty {
    return .init(min: text(strings.min(by: byteOrder)), max: text(strings.max(by: byteOrder)), nullCount: nulls)
  }
  if !bools.isEmpty {
    return .init(min: .bool(bools.contains(false) ? false : true), max: .bool(bools.contains(true)), nullCount: nulls)
  }
  return .init(min: nil, max: nil, nullCount: nulls)
}

@Suite struct ParquetRoundTripTests {
  static let codecs: [ParquetCompression] = [.none, .zstd(level: 3), .zstd(level: 19)]

  @Test(arguments: codecs)
  func everyTypeRoundTripsWithStatisticsPerRowGroup(compression: ParquetCompression) throws {
    let rows = sampleRows(2_345, seed: 7)
    let options = ParquetWriterOptions(rowGroupRows: 500, compression: compression, pageSizeBytes: 1_000)
    let file = try ParquetFile(bytes: write(rows, options: options))
    #expect(file.schema == sampleSchema)
    #expect(file.numRows == 2_345)
    #expect(file.rowGroups.map(\.numRows) == [500, 500, 500, 500, 345])
    #expect(sameRows(try file.rows(), rows))
    for (g, group) in file.rowGroups.enumerated() {
      let slice = rows[(g * 500)..<min(g * 500 + 500, rows.count)]
      for (c, chunk) in group.columns.enumerated() {
        #expect(chunk.statistics == expectedStatistics(slice, column: c), "row group \(g) column \(c)")
        #expect(chunk.codec == (compression == .none ? "UNCOMPRESSED" : "ZSTD"))
        let dictionary = chunk.encodings.contains("RLE_DICTIONARY")
        #expect(dictionary == (sampleSchema.columns[c].type == .string), "column \(c): \(chunk.encodings)")
      }
    }
  }

  @Test func columnBatchesWriteTheSameBytesAsRows() throws {
    let rows = sampleRows(3_000, seed: 11)
    let options = ParquetWriterOptions(rowGroupRows: 1_100, pageSizeBytes: 4_096)
    var writer = try ParquetWriter(schema: sampleSchema, options: options)
    // Uneven batches that straddle row groups.
    var start = 0
    for size in [1, 999, 700, 1_300] {
      let batch = Array(rows[start..<(start + size)])
      try writer.append(columns: columnBatches(batch, schema: sampleSchema))
      start += size
    }
    let batched = try writer.finish()
    #expect(batched == (try write(rows, options: options)))
    let file = try ParquetFile(bytes: batched)
    // Column reads give the batch format back.
    for g in file.rowGroups.indices {
      let slice = Array(rows[(g * 1_100)..<min(g * 1_100 + 1_100, rows.count)])
      let expected = columnBatches(slice, schema: sampleSchema)
      let decoded = try file.readRowGroup(g)
      for c in [0, 1, 3, 4, 5, 6] { #expect(decoded[c] == expected[c], "row group \(g) column \(c)") }
    }
  }

  @Test func dictionaryFallsBackToPlainPastItsLimit() throws {
    let schema = ParquetSchema([ParquetColumn(name: "s", type: .string, optional: true)])
    let few = (0..<1_000).map { i -> [ParquetValue] in [i % 7 == 0 ? .null : .string("v\(i % 20)")] }
    let many = (0..<1_000).map { i -> [ParquetValue] in [.string("distinct-value-\(i)")] }
    let options = ParquetWriterOptions(rowGroupRows: 1_000, dictionaryPageLimitBytes: 2_000, pageSizeBytes: 512)
    let small = try ParquetFile(bytes: write(few, schema: schema, options: options))
    let large = try ParquetFile(bytes: write(many, schema: schema, options: options))
    #expect(small.rowGroups[0].columns[0].encodings.contains("RLE_DICTIONARY"))
    #expect(!large.rowGroups[0].columns[0].encodings.contains("RLE_DICTIONARY"))
    #expect(try small.rows() == few)
    #expect(try large.rows() == many)
    #expect(large.rowGroups[0].columns[0].statistics?.min == .string("distinct-value-0"))
    #expect(large.rowGroups[0].columns[0].statistics?.max == .string("distinct-value-999"))
  }

  @Test func rowGroupsEndByEstimatedBytes() throws {
    let schema = ParquetSchema([ParquetColumn(name: "n", type: .int64), ParquetColumn(name: "d", type: .double)])
    let rows = (0..<10_000).map { i -> [ParquetValue] in [.int64(Int64(i)), .double(Double(i))] }
    let options = ParquetWriterOptions(rowGroupRows: 1_000_000, rowGroupBytes: 16_000, compression: .none)
    let file = try ParquetFile(bytes: write(rows, schema: schema, options: options))
    #expect(file.rowGroups.count == 10)
    #expect(file.rowGroups.allSatisfy { $0.numRows == 1_000 })
    #expect(try file.rows() == rows)
    #expect(file.rowGroups[3].columns[0].statistics?.min == .int64(3_000))
  }

  @Test func statisticsFollowTheFormatsRules() throws {
    let schema = ParquetSchema([
      ParquetColumn(name: "d", type: .double, optional: true),
      ParquetColumn(name: "s", type: .string, optional: true),
      ParquetColumn(name: "allNull", type: .int64, optional: true),
      ParquetColumn(name: "nan", type: .double),
    ])
    let rows: [[ParquetValue]] = [
      [.double(0.0), .string("z"), .null, .double(.nan)],
      [.double(.nan), .string("é"), .null, .double(.nan)],
      [.null, .string("Z"), .null, .double(.nan)],
      [.double(-0.0), .null, .null, .double(.nan)],
    ]
    let file = try ParquetFile(bytes: write(rows, schema: schema, options: ParquetWriterOptions()))
    let stats = file.rowGroups[0].columns.map(\.statistics)
    // Zeros: -0.0 as the min and +0.0 as the max, NaN left out.
    if case .double(let lo) = stats[0]?.min, case .double(let hi) = stats[0]?.max {
      #expect(lo == 0 && lo.sign == .minus)
      #expect(hi == 0 && hi.sign == .plus)
    } else {
      Issue.record("no double min/max: \(String(describing: stats[0]))")
    }
    #expect(stats[0]?.nullCount == 1)
    // Strings compare as unsigned bytes: "é" (0xC3 0xA9) sorts after "z".
    #expect(stats[1] == ParquetStatistics(min: .string("Z"), max: .string("é"), nullCount: 1))
    #expect(stats[2] == ParquetStatistics(min: nil, max: nil, nullCount: 4))
    #expect(stats[3] == ParquetStatistics(min: nil, max: nil, nullCount: 0))
    #expect(sameRows(try file.rows(), rows))
  }

  @Test func takeBytesStreamsTheSameFile() throws {
    let rows = sampleRows(1_500, seed: 3)
    let options = ParquetWriterOptions(rowGroupRows: 400)
    var writer = try ParquetWriter(schema: sampleSchema, options: options)
    var streamed: [UInt8] = []
    for (i, row) in rows.enumerated() {
      try writer.append(row: row)
      if i % 333 == 0 { streamed += writer.takeBytes() }
    }
    streamed += try writer.finish()
    #expect(streamed == (try write(rows, options: options)))
  }

  @Test func emptyFilesAndTinyPagesRoundTrip() throws {
    let empty = try ParquetFile(bytes: write([], options: ParquetWriterOptions()))
    #expect(empty.numRows == 0 && empty.rowGroups.isEmpty && empty.schema == sampleSchema)
    #expect(try empty.rows().isEmpty)
    // One value per page.
    let rows = sampleRows(64, seed: 5)
    let tiny = try ParquetFile(
      bytes: write(rows, options: ParquetWriterOptions(pageSizeBytes: 1, pageStatistics: false)))
    #expect(sameRows(try tiny.rows(), rows))
  }

  @Test func writerRefusesValuesThatDoNotFit() throws {
    var writer = try ParquetWriter(schema: sampleSchema)
    #expect(throws: ParquetError.self) { try writer.append(row: [.null]) }
    var row = sampleRows(1, seed: 1)[0]
    row[0] = .null
    #expect(throws: ParquetError.invalidInput("value null does not fit column \"id\"")) { try writer.append(row: row) }
    row[0] = .string("1")
    #expect(throws: ParquetError.self) { try writer.append(row: row) }
    #expect(throws: ParquetError.self) {
      try writer.append(
        columns: [.int64([1], valid: [false])]
          + columnBatches([sampleRows(1, seed: 1)[0]], schema: sampleSchema).dropFirst())
    }
    #expect(throws: ParquetError.self) { try ParquetWriter(schema: ParquetSchema([])) }
    #expect(throws: ParquetError.self) {
      try ParquetWriter(
        schema: ParquetSchema([ParquetColumn(name: "a", type: .int64), ParquetColumn(name: "a", type: .double)]))
    }
    // Nothing bad was buffered.
    #expect(writer.bufferedRows == 0)
  }

  @Test func errorsAreOneLineAndNameTheirPlace() throws {
    var bytes = try write(sampleRows(100, seed: 2), options: ParquetWriterOptions(compression: .none))
    #expect(throws: ParquetError.truncated("0 bytes is too short for Parquet", offset: 0)) {
      try ParquetFile(bytes: [])
    }
    bytes[bytes.count - 1] = UInt8(ascii: "X")
    do {
      _ = try ParquetFile(bytes: bytes)
      Issue.record("a bad magic was accepted")
    } catch {
      #expect(error.description == "malformed Parquet: no PAR1 magic at the end at byte \(bytes.count - 4)")
    }
  }
}
