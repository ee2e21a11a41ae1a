import Testing

@testable import Parquet

/// What the public API does not show: page headers, read back with the module's own Thrift reader.
@Suite struct ParquetPageTests {
  /// Each data page's row count and statistics in one column chunk, in file order.
  static func dataPages(_ bytes: [UInt8], rowGroup: Int, column: Int, type: ParquetType) throws
    -> [(rows: Int, statistics: ParquetStatistics?, encoding: Int32)]
  {
    let footerLength = Int(loadUInt32(bytes, bytes.count - 8))
    var footer = ThriftReader(bytes, from: bytes.count - 8 - footerLength, to: bytes.count - 8)
    let chunk = try FileMeta.read(&footer).rowGroups[rowGroup].columns[column]
    var position = Int(chunk.dictionaryPageOffset ?? chunk.dataPageOffset)
    let end = position + Int(chunk.compressedSize)
    var pages: [(rows: Int, statistics: ParquetStatistics?, encoding: Int32)] = []
    while position < end {
      var reader = ThriftReader(bytes, from: position, to: end)
      let header = try PageHeader.read(&reader)
      position = reader.position + Int(header.compressedSize)
      if header.type == PageHeader.dataPage {
        pages.append((Int(header.numValues), header.statistics?.decoded(type), header.encoding))
      }
    }
    return pages
  }

  @Test(arguments: [true, false])
  func everyDataPageCarriesItsOwnStatistics(pageStatistics: Bool) throws {
    let rows = sampleRows(1_000, seed: 21)
    let options = ParquetWriterOptions(rowGroupRows: 600, pageSizeBytes: 200, pageStatistics: pageStatistics)
    let bytes = try write(rows, options: options)
    for (g, groupStart) in [0, 600].enumerated() {
      for (c, column) in sampleSchema.columns.enumerated() {
        let pages = try Self.dataPages(bytes, rowGroup: g, column: c, type: column.type)
        #expect(pages.count > 1, "row group \(g) column \(c): \(pages.count) pages")
        var start = groupStart
        for page in pages {
          let slice = rows[start..<(start + page.rows)]
          if pageStatistics {
            #expect(page.statistics == expectedStatistics(slice, column: c), "row group \(g) column \(c) row \(start)")
          } else {
            #expect(page.statistics == nil)
          }
          start += page.rows
        }
        #expect(start == min(groupStart + 600, rows.count))
      }
    }
  }

  @Test(arguments: [1, 2, 3, 255, 256, 257, 4_097])
  func dictionaryIndexWidthsRoundTrip(distinct: Int) throws {
    let schema = ParquetSchema([ParquetColumn(name: "s", type: .string, optional: true)])
    // Long runs (RLE) between stretches of changing values (bit-packed), and nulls.
    let rows = (0..<20_000).map { i -> [ParquetValue] in
      if i % 97 == 0 { return [.null] }
      let value = (i / 50) % 3 == 0 ? i / 50 : i * 7_919
      return [.string("v\(value % distinct)")]
    }
    let options = ParquetWriterOptions(rowGroupRows: 20_000, dictionaryPageLimitBytes: 1 << 20, pageSizeBytes: 2_048)
    let bytes = try write(rows, schema: schema, options: options)
    let file = try ParquetFile(bytes: bytes)
    #expect(file.rowGroups[0].columns[0].encodings.contains("RLE_DICTIONARY"))
    let pages = try Self.dataPages(bytes, rowGroup: 0, column: 0, type: .string)
    #expect(pages.allSatisfy { $0.encoding == EncodingCode.rleDictionary })
    #expect(try file.rows() == rows)
  }

  @Test func rleHybridRoundTripsEveryWidth() throws {
    var random = UInt64(12_345)
    for width in 0...32 {
      let maxValue: UInt64 = width == 0 ? 0 : (1 << UInt64(width)) - 1
      var values: [UInt32] = []
      while values.count < 3_000 {
        random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let value = UInt32(maxValue == 0 ? 0 : (random >> 20) % (maxValue + 1))
        // Runs of 1 to 20 equal values.
        values += repeatElement(value, count: Int(random >> 59) + 1)
      }
      var encoder = RLEHybridEncoder(width: width)
      values.withUnsafeBufferPointer { encoder.encode($0) }
      var decoded: [UInt32] = []
      try decodeRLEHybrid(
        encoder.bytes, from: 0, to: encoder.bytes.count, width: width, count: values.count, into: &decoded)
      #expect(decoded == values, "width \(width)")
    }
  }
}
