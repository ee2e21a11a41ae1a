import DeltaLog
import Foundation
import LakeStorage
import Parquet

/// Reads a published zone table, whichever format the run wrote, into the same line consumers:
/// NDJSON files as they are, and the current Delta version's Parquet files one row at a time
/// rendered as NDJSON lines. The checks downstream then have one definition whatever the format.
public struct ZoneTableReader: Sendable {
  public let lake: Lake
  public var ndjson = NDJSONTableReader()

  /// A reader of `lake`'s zone tables.
  public init(lake: Lake) { self.lake = lake }

  /// The format of the table in `folder`: Parquet once it has a Delta log.
  public static func format(of folder: String, in lake: Lake) -> TableFormat {
    FileManager.default.fileExists(atPath: lake.path("\(folder)/_delta_log")) ? .parquet : .ndjson
  }

  /// Reads every row of `schema`'s table; a Parquet file that is damaged or has other columns
  /// throws an error naming it, and a row that breaks the schema is quarantined as a line would be.
  public func read<Consumer: NDJSONLineConsumer>(
    _ schema: TableSchema, makeConsumer: () -> Consumer, absorb: (consuming Consumer) -> Void,
    quarantine: (QuarantinedLine) -> Void
  ) async throws(StorageError) -> LineCounts {
    guard Self.format(of: schema.folder, in: lake) == .parquet else {
      return try ndjson.read(
        try lake.tableFiles(in: schema.folder), makeConsumer: makeConsumer, absorb: absorb, quarantine: quarantine)
    }
    let table = DeltaTable(storage: FileSystemStorage(root: lake.root), root: schema.folder)
    guard let snapshot = try await ParquetTablePublisher.snapshot(of: table) else { return LineCounts() }
    let files = snapshot.sortedFiles
    var counts = LineCounts()
    // Files in parallel, a core's worth at a time; consumers absorbed in file order.
    let batch = max(1, ndjson.parallelism)
    var start = 0
    while start < files.count {
      let end = min(files.count, start + batch)
      var outcomes = [Result<FileOutcome<Consumer>, StorageError>?](repeating: nil, count: end - start)
      outcomes.withUnsafeMutableBufferPointer { slots in
        concurrentForEach(end - start) { offset in
          do throws(StorageError) {
            slots[offset] = .success(
              try readFile(files[start + offset], table: table, schema: schema, consumer: makeConsumer()))
          } catch {
            slots[offset] = .failure(error)
          }
        }
      }
      for outcome in outcomes {
        switch outcome! {
        case .success(let file):
          counts.add(file.counts)
          file.quarantined.forEach(quarantine)
          absorb(file.consumer)
        case .failure(let error): throw error
        }
      }
      start = end
    }
    return counts
  }

  /// Parquet files in a Parquet table's folder that its current version does not name (relative
  /// to the folder): invisible to Delta readers, but read by anyone who lists the folder.
  public func unlistedFiles(_ schema: TableSchema) async throws(StorageError) -> [String] {
    guard Self.format(of: schema.folder, in: lake) == .parquet else { return [] }
    let table = DeltaTable(storage: FileSystemStorage(root: lake.root), root: schema.folder)
    let listed = Set(try await ParquetTablePublisher.snapshot(of: table)?.files.keys.map { $0 } ?? [])
    return ParquetTablePublisher.dataFiles(in: lake.path(schema.folder)).filter {
      !$0.split(separator: "/").last!.hasPrefix(".") && !listed.contains(DeltaTable.actionPath(relativeKey: $0))
    }.sorted()
  }

  /// Every row of `schema`'s table as NDJSON lines, in file order: for tools and tests that look
  /// at a table's content whatever its format.
  public func lines(_ schema: TableSchema) async throws(StorageError) -> [UInt8] {
    var bytes: [UInt8] = []
    _ = try await read(
      schema, makeConsumer: { LineCollector() }, absorb: { bytes += $0.bytes },
      quarantine: { bytes += $0.raw + [UInt8(ascii: "\n")] })
    return bytes
  }

  private struct LineCollector: NDJSONLineConsumer {
    var bytes: [UInt8] = []
    mutating func consume(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) {
      bytes.append(contentsOf: line)
      bytes.append(UInt8(ascii: "\n"))
    }
  }

  private struct FileOutcome<Consumer> {
    var consumer: Consumer
    var counts = LineCounts()
    var quarantined: [QuarantinedLine] = []
  }

  private func readFile<Consumer: NDJSONLineConsumer>(
    _ add: DeltaAddFile, table: DeltaTable, schema: TableSchema, consumer: Consumer
  ) throws(StorageError) -> FileOutcome<Consumer> {
    let key = table.dataKey(path: add.path)
    let path = lake.path(key)
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .unreadable(path: path, reason: "the table's Delta log lists it but it cannot be read")
    }
    let file: ParquetFile
    do {
      file = try ParquetFile(bytes: Array(data))
    } catch {
      throw .invalidObject(key: path, reason: "not a readable Parquet file: \(error.description)")
    }
    let expected = ParquetTablePublisher.parquetSchema(schema)
    guard file.schema.columns.map(\.name) == expected.columns.map(\.name),
      zip(file.schema.columns, expected.columns).allSatisfy({ $0.type == $1.type })
    else {
      let found = file.schema.columns.map { "\($0.name) \($0.type)" }.joined(separator: ", ")
      throw .invalidObject(key: path, reason: "its columns are [\(found)], not \(schema.name)'s")
    }
    let quotedNames = schema.columns.map { NDJSONBuffer.quoted($0.name) }
    let timeColumn = schema.partitionTimeColumn.flatMap { name in schema.columns.firstIndex { $0.name == name } }
    let partitionDate = add.partitionValues[TableSchema.partitionColumnName]
    var outcome = FileOutcome(consumer: consumer)
    var rowNumber = 0
    var line = NDJSONBuffer()
    for rowGroup in file.rowGroups.indices {
      var columns: [ParquetColumnValues] = []
      do {
        for column in expected.columns.indices { columns.append(try file.readColumn(column, rowGroup: rowGroup)) }
      } catch {
        throw .invalidObject(key: path, reason: "not a readable Parquet file: \(error.description)")
      }
      let rows = columns.first?.count ?? 0
      for row in 0..<rows {
        rowNumber += 1
        line.removeAll()
        Self.render(row: row, of: columns, names: quotedNames, into: &line)
        outcome.counts.read += 1
        var failure: RecordError?
        if let timeColumn, let partitionDate, case .int64(let times, _) = columns[timeColumn],
          EpochMilliseconds.utcDate(day: EpochMilliseconds.utcDay(times[row])) != partitionDate
        {
          failure = RecordError(
            .invalidValue, "\(schema.columns[timeColumn].name) \(times[row]) is not in partition date=\(partitionDate)",
            field: schema.columns[timeColumn].name)
        } else {
          // The rendered line without its newline.
          let bytes = line.bytes
          do throws(RecordError) {
            try bytes.withUnsafeBufferPointer { whole throws(RecordError) in
              try outcome.consumer.consume(UnsafeBufferPointer(rebasing: whole[..<(whole.count - 1)]))
            }
          } catch {
            failure = error
          }
        }
        if let failure {
          outcome.counts.quarantined += 1
          outcome.quarantined.append(
            QuarantinedLine(
              sourceFile: key, line: rowNumber, reason: failure.reason, detail: failure.detail,
              raw: Array(line.bytes.dropLast())))
        } else {
          outcome.counts.accepted += 1
        }
      }
    }
    return outcome
  }

  /// One row as an NDJSON line; a null leaves its member out, as the landing data does.
  package static func render(
    row: Int, of columns: [ParquetColumnValues], names: [[UInt8]], into line: inout NDJSONBuffer
  ) {
    line.beginObject()
    for (index, column) in columns.enumerated() {
      if let valid = column.valid, !valid[row] { continue }
      switch column {
      case .int64(let values, _):
        line.key(quoted: names[index])
        line.appendInteger(values[row])
      case .double(let values, _):
        line.key(quoted: names[index])
        line.appendDouble(values[row], integralAsInteger: false)
      case .boolean(let values, _):
        line.key(quoted: names[index])
        line.appendRaw(contentsOf: Array((values[row] ? "true" : "false").utf8))
      case .string(let bytes, let offsets, _):
        line.key(quoted: names[index])
        line.appendQuoted(String(decoding: bytes[offsets[row]..<offsets[row + 1]], as: UTF8.self))
      }
    }
    line.endObject()
  }
}
