import Foundation
import Parquet
import StediTestSupport
import Testing

/// Swift's files read by real pyarrow and DuckDB, and pyarrow's files read by Swift (Python from .venv-parquet).
@Suite(
  .enabled(
    if: PythonParquet.available,
    "needs Python with pyarrow and duckdb in .venv-parquet (scripts/test.sh installs them)"))
struct ParquetInteropTests {
  struct Variant: Sendable, CustomTestStringConvertible {
    let name: String
    let options: ParquetWriterOptions
    var testDescription: String { name }
  }

  static let variants: [Variant] = [
    Variant(name: "zstd", options: ParquetWriterOptions(rowGroupRows: 1_000, compression: .zstd(level: 3))),
    Variant(name: "uncompressed", options: ParquetWriterOptions(rowGroupRows: 1_500, compression: .none)),
    Variant(
      name: "dictionary-fallback",
      options: ParquetWriterOptions(rowGroupRows: 2_000, dictionaryPageLimitBytes: 300, pageSizeBytes: 700)),
    Variant(
      name: "small-pages-no-page-stats",
      options: ParquetWriterOptions(rowGroupRows: 700, compression: .none, pageSizeBytes: 64, pageStatistics: false)),
  ]

  @Test(arguments: variants)
  func pyarrowAndDuckDBReadWhatSwiftWrites(variant: Variant) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let rows = sampleRows(4_321, seed: 99, distinctNames: variant.name == "dictionary-fallback" ? 1_000 : 40)
    let bytes = try write(rows, options: variant.options)
    let path = folder.url.appendingPathComponent("\(variant.name).parquet")
    try Data(bytes).write(to: path)
    let swift = try ParquetFile(bytes: bytes)

    let output = try PythonParquet.shared.check(["read", path.path])
    let report = try #require((try JSONSerialization.jsonObject(with: output) as? [[String: Any]])?.first)
    let pyarrow = try #require(report["pyarrow"] as? [String: Any])
    let duckdb = try #require(report["duckdb"] as? [String: Any])

    // Rows: both engines see what was written (timestamps as epoch milliseconds).
    for (engine, side) in [("pyarrow", pyarrow), ("duckdb", duckdb)] {
      let seen = try #require(side["rows"] as? [[Any]])
      #expect(seen.count == rows.count, "\(engine) row count")
      var mismatches = 0
      for (r, row) in zip(rows, seen) where !zip(r, row).allSatisfy({ matches($0, $1) }) {
        mismatches += 1
        if mismatches <= 3 { Issue.record("\(engine) reads \(row) for \(r)") }
      }
      #expect(mismatches == 0, "\(engine): \(mismatches) rows differ")
    }
    let duckTypes = try #require(duckdb["types"] as? [String])
    #expect(
      duckTypes == [
        "BIGINT", "TIMESTAMP WITH TIME ZONE", "DOUBLE", "VARCHAR", "BOOLEAN", "VARCHAR", "BOOLEAN", "DOUBLE",
      ])

    // Schema as pyarrow reads it: logical and legacy converted types.
    let schema = try #require(report["schema"] as? [[String: Any]])
    #expect(
      schema.map { $0["converted_type"] as? String } == [
        "NONE", "TIMESTAMP_MILLIS", "NONE", "UTF8", "NONE", "UTF8", "NONE", "NONE",
      ])
    #expect(
      (schema[1]["logical_type"] as? String)?.hasPrefix("Timestamp(isAdjustedToUTC=true, timeUnit=milliseconds") == true
    )
    #expect(schema.map { $0["max_definition_level"] as? Int } == [0, 1, 1, 1, 1, 0, 0, 0])

    // Row group metadata: pyarrow's statistics, codec and encodings are the ones Swift wrote.
    let groups = try #require(pyarrow["row_groups"] as? [[String: Any]])
    #expect(groups.count == swift.rowGroups.count)
    let codec = variant.options.compression == .none ? "UNCOMPRESSED" : "ZSTD"
    for (g, (group, mine)) in zip(groups, swift.rowGroups).enumerated() {
      #expect((group["num_rows"] as? Int).map(Int64.init) == mine.numRows)
      let chunks = try #require(group["columns"] as? [[String: Any]])
      for (c, (chunk, ours)) in zip(chunks, mine.columns).enumerated() {
        let at = "row group \(g) column \(c)"
        #expect(chunk["compression"] as? String == codec, "\(at)")
        #expect(chunk["encodings"] as? [String] == ours.encodings, "\(at)")
        let stats = try #require(chunk["statistics"] as? [String: Any], "\(at) has no statistics for pyarrow")
        let expected = try #require(ours.statistics)
        #expect((stats["null_count"] as? Int).map(Int64.init) == expected.nullCount, "\(at)")
        if let min = expected.min, let max = expected.max {
          #expect(stats["has_min_max"] as? Bool == true, "\(at)")
          #expect(matches(min, stats["min"] as Any), "\(at): pyarrow min \(stats["min"] ?? "nil"), ours \(min)")
          #expect(matches(max, stats["max"] as Any), "\(at): pyarrow max \(stats["max"] ?? "nil"), ours \(max)")
        }
      }
    }
    // Strings are dictionary-encoded unless the dictionary passes its limit (then PLAIN, and pyarrow still reads them).
    let dictionaries = swift.rowGroups.filter { $0.columns[3].encodings.contains("RLE_DICTIONARY") }.count
    #expect(dictionaries == (variant.name == "dictionary-fallback" ? 0 : swift.rowGroups.count))

    // DuckDB's parquet_metadata(): the same statistics, as its strings.
    let metadata = try #require(duckdb["metadata"] as? [[String: Any]])
    #expect(metadata.count == swift.rowGroups.count * sampleSchema.columns.count)
    for entry in metadata {
      let g = try #require(entry["row_group_id"] as? Int)
      let c = try #require(entry["column_id"] as? Int)
      let expected = try #require(swift.rowGroups[g].columns[c].statistics)
      let at = "duckdb row group \(g) column \(c)"
      #expect(entry["compression"] as? String == codec, "\(at)")
      #expect((entry["stats_null_count"] as? Int).map(Int64.init) == expected.nullCount, "\(at)")
      for (key, value) in [("stats_min_value", expected.min), ("stats_max_value", expected.max)] {
        let text = entry[key] as? String
        switch value {
        case .int64(let v) where c != 1: #expect(text == String(v), "\(at) \(key)")
        // DuckDB's parquet_metadata() leaves infinite bounds out (pyarrow's files too).
        case .double(let v) where v.isInfinite: #expect(text == nil || text.flatMap(Double.init) == v, "\(at) \(key)")
        case .double(let v): #expect(text.flatMap(Double.init) == v, "\(at) \(key): \(text ?? "nil")")
        case .string(let v): #expect(text == v, "\(at) \(key)")
        case .bool(let v): #expect(text == String(v), "\(at) \(key)")
        case .int64, nil, .null: #expect((text == nil) == (value == nil), "\(at) \(key)")
        }
      }
    }
  }

  @Test func swiftReadsWhatPyarrowWrites() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    _ = try PythonParquet.shared.check(["write", folder.url.path])
    let manifestData = try Data(contentsOf: folder.url.appendingPathComponent("manifest.json"))
    let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
    let sample = try #require(manifest["sample"] as? [[Any]])
    let readable = try #require(manifest["readable"] as? [[String: Any]])
    let refused = try #require(manifest["refused"] as? [[String: Any]])
    #expect(readable.count >= 10 && refused.count >= 8)

    for entry in readable {
      let name = try #require(entry["file"] as? String)
      let bytes = [UInt8](try Data(contentsOf: folder.url.appendingPathComponent(name)))
      let file = try ParquetFile(bytes: bytes)
      let expected = entry["rows"] as? String == "empty" ? [] : sample
      let rows = try file.rows()
      #expect(rows.count == expected.count, "\(name)")
      var mismatches = 0
      for (r, row) in zip(rows, expected) where !zip(r, row).allSatisfy({ matches($0, $1) }) {
        mismatches += 1
        if mismatches <= 3 { Issue.record("\(name): Swift reads \(r) for \(row)") }
      }
      #expect(mismatches == 0, "\(name): \(mismatches) rows differ")
      #expect(
        file.schema.columns.map(\.name) == ["id", "ts", "value", "label", "flag", "count"], "\(name)")
      #expect(file.schema.columns[1].timestampMillisUTC, "\(name)")
      if !name.contains("no_statistics") && !expected.isEmpty {
        let stats = try #require(file.rowGroups[0].columns[5].statistics, "\(name)")
        #expect(stats.nullCount == 0, "\(name)")
        #expect(stats.min != nil && stats.max != nil, "\(name)")
      }
    }
    for entry in refused {
      let name = try #require(entry["file"] as? String)
      let message = try #require(entry["message"] as? String)
      let bytes = [UInt8](try Data(contentsOf: folder.url.appendingPathComponent(name)))
      do {
        let file = try ParquetFile(bytes: bytes)
        _ = try file.rows()
        Issue.record("\(name) was read; it should be refused")
      } catch {
        #expect(error.description.contains(message), "\(name): \(error)")
        #expect(error.description.contains("unsupported"), "\(name): \(error)")
      }
    }
  }
}
