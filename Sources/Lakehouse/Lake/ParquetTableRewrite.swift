// Rewriting one data file of a Parquet zone table without some of its rows, for erasure: the
// file is decoded whole, each row can be rendered as the NDJSON line the table had before it was
// Parquet (so the rules that judge lines judge rows), and the rows kept are encoded again the way
// `ParquetTablePublisher` encodes them, so the new file is the one a fresh publish of the same
// rows would write, byte for byte and by name.

import DeltaLog
import Foundation
import LakeStorage
import Parquet

/// One decoded data file of a Parquet table, and its re-encoding without some rows.
package struct ParquetTableFile: Sendable {
  /// The file's storage key.
  package let key: String
  /// Its columns, as the file declares them.
  package let schema: ParquetSchema
  /// Every row's values, row groups concatenated.
  package let columns: [ParquetColumnValues]
  /// Rows per row group the file was written with, when it has more than one (else nil).
  package let rowGroupRows: Int?

  /// Decodes `bytes` (the file at `key`); a file that is no readable Parquet throws naming it.
  package init(key: String, bytes: [UInt8]) throws(StorageError) {
    self.key = key
    let file: ParquetFile
    var columns: [ParquetColumnValues] = []
    do {
      file = try ParquetFile(bytes: bytes)
      for rowGroup in file.rowGroups.indices {
        let group = try file.readRowGroup(rowGroup)
        columns = columns.isEmpty ? group : zip(columns, group).map { Self.concatenate($0, $1) }
      }
    } catch {
      throw .invalidObject(key: key, reason: "not a readable Parquet file: \(error.description)")
    }
    if columns.isEmpty {
      columns = file.schema.columns.map { Self.empty($0.type) }
    }
    self.schema = file.schema
    self.columns = columns
    self.rowGroupRows = file.rowGroups.count > 1 ? file.rowGroups.first.map { Int($0.numRows) } : nil
  }

  /// The number of rows.
  package var rowCount: Int { columns.first?.count ?? 0 }

  /// The table schema the file's columns make (names, kinds and nullability; no partition column).
  package var tableSchema: TableSchema {
    TableSchema(
      name: key, folder: (key as NSString).deletingLastPathComponent,
      columns: schema.columns.map { column in
        let kind: TableColumn.Kind =
          switch column.type {
          case .int64: .int64
          case .double: .double
          // No zone table has booleans; their statistics are left out like strings'.
          case .string, .boolean: .string
          }
        return TableColumn(column.name, kind, required: !column.optional)
      }, isLanding: false)
  }

  /// Every row rendered as its NDJSON line, each followed by a newline (`ZoneTableReader.render`).
  package func renderedLines() -> [UInt8] {
    let names = schema.columns.map { NDJSONBuffer.quoted($0.name) }
    var line = NDJSONBuffer()
    var all: [UInt8] = []
    for row in 0..<rowCount {
      line.removeAll()
      ZoneTableReader.render(row: row, of: columns, names: names, into: &line)
      all += line.bytes
    }
    return all
  }

  /// The file's columns with only the rows in `keep` (ascending).
  package func columns(keeping keep: [Int]) -> [ParquetColumnValues] {
    columns.map { Self.select(keep, from: $0) }
  }

  /// The bytes of a file of `rows` (ascending), encoded as the publisher encodes a table's files,
  /// and its Delta add action (same partition and file number, a content-hash name, statistics as
  /// the publisher writes them); nil when no row is kept.
  package func rewritten(
    keeping rows: [Int], partitionValues: [String: String], atMs: Int64
  ) throws(StorageError) -> (bytes: [UInt8], add: DeltaAddFile)? {
    guard !rows.isEmpty else { return nil }
    let values = columns(keeping: rows)
    let table = tableSchema
    var options = ParquetWriterOptions()
    if let rowGroupRows { options.rowGroupRows = rowGroupRows }
    let chunk = TableFileChunk(
      date: partitionValues[TableSchema.partitionColumnName], index: Self.fileIndex(key), rows: [])
    // The file's own columns: for a file the publisher wrote they are `parquetSchema(table)`.
    let bytes = try ParquetTablePublisher.encode(values, schema: schema, options: options, chunk: chunk, table: table)
    let name = ParquetTablePublisher.fileName(chunk: chunk, bytes: bytes)
    let relative = (chunk.date.map { "\(TableSchema.partitionColumnName)=\($0)/" } ?? "") + name
    let add = DeltaAddFile(
      path: DeltaTable.actionPath(relativeKey: relative), partitionValues: partitionValues,
      size: Int64(bytes.count), modificationTime: atMs,
      stats: ParquetTablePublisher.statistics(values, schema: table, rows: rows.count))
    return (bytes, add)
  }

  /// The `NNNNN` of a `part-NNNNN-<digest>.parquet` name (0 for other names).
  package static func fileIndex(_ key: String) -> Int {
    let name = (key as NSString).lastPathComponent
    guard name.hasPrefix("part-") else { return 0 }
    return Int(name.dropFirst(5).prefix { $0.isNumber }) ?? 0
  }

  /// Whether `key` names a data file of a Parquet table (or the temporary file of one being written).
  package static func isDataFile(_ key: String) -> Bool {
    let name = (key as NSString).lastPathComponent
    return name.hasSuffix(".parquet") || (name.hasPrefix(".part-") && name.hasSuffix(".tmp"))
  }

  static func empty(_ type: ParquetType) -> ParquetColumnValues {
    switch type {
    case .int64: .int64([])
    case .double: .double([])
    case .boolean: .boolean([])
    case .string: .string(bytes: [], offsets: [0])
    }
  }

  /// The rows `keep` of `values`, nulls as the publisher gives them (`valid` nil when none).
  static func select(_ keep: [Int], from values: ParquetColumnValues) -> ParquetColumnValues {
    let valid = values.valid.map { flags in keep.map { flags[$0] } }
    let kept = valid.flatMap { $0.contains(false) ? $0 : nil }
    switch values {
    case .int64(let numbers, _): return .int64(keep.map { numbers[$0] }, valid: kept)
    case .double(let numbers, _): return .double(keep.map { numbers[$0] }, valid: kept)
    case .boolean(let flags, _): return .boolean(keep.map { flags[$0] }, valid: kept)
    case .string(let bytes, let offsets, _):
      var out: [UInt8] = []
      var outOffsets = [0]
      outOffsets.reserveCapacity(keep.count + 1)
      for row in keep {
        out.append(contentsOf: bytes[offsets[row]..<offsets[row + 1]])
        outOffsets.append(out.count)
      }
      return .string(bytes: out, offsets: outOffsets, valid: kept)
    }
  }

  static func concatenate(_ a: ParquetColumnValues, _ b: ParquetColumnValues) -> ParquetColumnValues {
    func flags(_ value: ParquetColumnValues) -> [Bool] { value.valid ?? Array(repeating: true, count: value.count) }
    let valid: [Bool]? = a.valid == nil && b.valid == nil ? nil : flags(a) + flags(b)
    switch (a, b) {
    case (.int64(let x, _), .int64(let y, _)): return .int64(x + y, valid: valid)
    case (.double(let x, _), .double(let y, _)): return .double(x + y, valid: valid)
    case (.boolean(let x, _), .boolean(let y, _)): return .boolean(x + y, valid: valid)
    case (.string(let x, let xo, _), .string(let y, let yo, _)):
      let base = xo.last ?? 0
      let start = yo.first ?? 0
      let tail = yo.dropFirst().map { $0 - start + base }
      return .string(bytes: Array(x[..<base]) + Array(y[start...]), offsets: xo + tail, valid: valid)
    default: preconditionFailure("row groups of one file with different column types")
    }
  }
}
