// Publication of a table as Parquet files under a Delta Lake log.
//
// Files are immutable and named by their content (`part-NNNNN-<digest>.parquet`): a publish
// encodes every file, writes only those the current version does not already hold, and commits
// one Delta version that removes the files no longer wanted and adds the new ones. So an
// incremental run whose rows changed in one day rewrites that day's partition and nothing else,
// and a Delta reader sees exactly one version's files. The files a commit removes stay until the
// run has committed every table (a Delta reader of the old version can still finish), then the
// run deletes them (`deleteRemovedFiles`): readers that list the folder instead of reading the
// log (Athena's Hive tables, pyarrow or DuckDB over the folder) must find only current files
// between runs. An erasure deletes them right after its commit.

import Crypto
import DeltaLog
import Foundation
import LakeStorage
import Parquet

/// The rows of one data file of a Parquet table: its partition's date and the rows' indices.
package struct TableFileChunk: Sendable {
  /// `YYYY-MM-DD` for partitioned tables.
  package var date: String?
  /// The file's number within its partition.
  package var index: Int
  /// Indices into the caller's rows, in output order.
  package var rows: [Int32]

  /// A file's rows.
  package init(date: String?, index: Int, rows: [Int32]) {
    self.date = date
    self.index = index
    self.rows = rows
  }

  /// Splits `rowCount` rows into files of at most `rowsPerFile` rows: by the UTC day of
  /// `time(row)` when given (each partition keeps the rows' order), else in order.
  package static func split(rowCount: Int, rowsPerFile: Int, time: ((Int) -> Int64)?) -> [TableFileChunk] {
    var groups: [(date: String?, rows: [Int32])] = []
    if let time {
      var byDay: [Int64: [Int32]] = [:]
      for row in 0..<rowCount { byDay[EpochMilliseconds.utcDay(time(row)), default: []].append(Int32(row)) }
      groups = byDay.keys.sorted().map { (EpochMilliseconds.utcDate(day: $0), byDay[$0]!) }
    } else if rowCount > 0 {
      groups = [(nil, (0..<rowCount).map { Int32($0) })]
    }
    var chunks: [TableFileChunk] = []
    for group in groups {
      var start = 0
      var index = 0
      while start < group.rows.count {
        let end = min(group.rows.count, start + rowsPerFile)
        chunks.append(TableFileChunk(date: group.date, index: index, rows: Array(group.rows[start..<end])))
        start = end
        index += 1
      }
    }
    return chunks
  }
}

/// What a Parquet publish changed.
public struct ParquetPublishOutcome: Sendable, Equatable {
  /// The Delta version now current.
  public var version: Int64
  /// Data files written by this publish.
  public var filesWritten: Int
  /// Data files the new version keeps from the previous one (their rows did not change).
  public var filesKept: Int
  /// Data files the new version no longer holds.
  public var filesRemoved: Int
  /// Bytes of the data files written.
  public var bytesWritten: Int
  /// The remove actions of the commit, whose files the run deletes once every table is committed.
  public var removed: [DeltaRemoveFile] = []

  /// Equal in what a run reports (the remove actions aside).
  public static func == (a: Self, b: Self) -> Bool {
    a.version == b.version && a.filesWritten == b.filesWritten && a.filesKept == b.filesKept
      && a.filesRemoved == b.filesRemoved && a.bytesWritten == b.bytesWritten
  }
}

/// Writes a table's rows as Parquet files and commits them as one Delta version.
package struct ParquetTablePublisher {
  package let lake: Lake
  package let schema: TableSchema
  package var options = ParquetWriterOptions()

  /// A publisher of `schema`'s table in `lake`.
  package init(lake: Lake, schema: TableSchema) {
    self.lake = lake
    self.schema = schema
  }

  /// The table's columns as Parquet declares them: times are plain INT64 epoch milliseconds, so
  /// values and names are exactly the NDJSON tables' (and the public data's).
  package static func parquetSchema(_ schema: TableSchema) -> ParquetSchema {
    ParquetSchema(
      schema.columns.map { column in
        let type: ParquetType =
          switch column.kind {
          case .int64: .int64
          case .double: .double
          case .string: .string
          }
        return ParquetColumn(name: column.name, type: type, optional: !column.required)
      })
  }

  /// The table's columns as its Delta log declares them: the files' columns, then the partition
  /// column (Delta declares it in the schema; its values live in folder names, not in files).
  package static func deltaSchema(_ schema: TableSchema) -> DeltaSchema {
    var fields = schema.columns.map { column in
      let type =
        switch column.kind {
        case .int64: "long"
        case .double: "double"
        case .string: "string"
        }
      return DeltaSchema.Field(name: column.name, type: type, nullable: !column.required)
    }
    if schema.partitionTimeColumn != nil {
      fields.append(DeltaSchema.Field(name: TableSchema.partitionColumnName, type: "string", nullable: false))
    }
    return DeltaSchema(fields)
  }

  package var partitionColumns: [String] { schema.partitionTimeColumn == nil ? [] : [TableSchema.partitionColumnName] }

  /// Encodes `chunks` (the columns of each from `columns`), writes the files the current version
  /// lacks and commits the new version.
  package func publish(
    _ chunks: [TableFileChunk], atMs: Int64, operation: String = "WRITE",
    columns: (TableFileChunk) -> [ParquetColumnValues]
  ) async throws(StorageError) -> ParquetPublishOutcome {
    let storage = FileSystemStorage(root: lake.root)
    let table = DeltaTable(storage: storage, root: schema.folder)
    var current = try await Self.snapshot(of: table)
    if let snapshot = current,
      snapshot.schema != Self.deltaSchema(schema) || snapshot.metadata?.partitionColumns != partitionColumns
    {
      // The columns changed (another profile's curated table): a new table from version 0.
      try Self.removeTable(at: lake.path(schema.folder))
      current = nil
    }
    let referenced = Set((current?.files.keys).map(Array.init) ?? [])
    try removeUnreferencedFiles(keeping: referenced)

    let parquetSchema = Self.parquetSchema(schema)
    let tableFolder = lake.path(schema.folder)
    var results = [Result<DeltaAddFile, StorageError>?](repeating: nil, count: chunks.count)
    var written = [Int](repeating: 0, count: chunks.count)
    let options = self.options
    results.withUnsafeMutableBufferPointer { slots in
      written.withUnsafeMutableBufferPointer { sizes in
        concurrentForEach(chunks.count) { index in
          let chunk = chunks[index]
          do throws(StorageError) {
            let values = columns(chunk)
            let bytes = try Self.encode(values, schema: parquetSchema, options: options, chunk: chunk, table: schema)
            let name = Self.fileName(chunk: chunk, bytes: bytes)
            let relative = (chunk.date.map { "\(TableSchema.partitionColumnName)=\($0)/" } ?? "") + name
            let path = DeltaTable.actionPath(relativeKey: relative)
            if !referenced.contains(path) {
              let folder = (("\(tableFolder)/\(relative)") as NSString).deletingLastPathComponent
              let publisher = try TablePublisher(folder: folder, fileName: name)
              try publisher.write(bytes)
              try publisher.commit()
              sizes[index] = bytes.count
            }
            slots[index] = .success(
              DeltaAddFile(
                path: path,
                partitionValues: chunk.date.map { [TableSchema.partitionColumnName: $0] } ?? [:],
                size: Int64(bytes.count), modificationTime: atMs,
                stats: Self.statistics(values, schema: schema, rows: chunk.rows.count)))
          } catch {
            slots[index] = .failure(error)
          }
        }
      }
    }
    var files: [DeltaAddFile] = []
    for result in results {
      switch result! {
      case .success(let file): files.append(file)
      case .failure(let error): throw error
      }
    }
    let wanted = Set(files.map(\.path))
    let adding = files.filter { !referenced.contains($0.path) }
    let removing = (current?.sortedFiles ?? []).filter { !wanted.contains($0.path) }.map {
      DeltaRemoveFile(removing: $0, at: atMs)
    }
    let version: Int64
    do {
      if let current {
        if adding.isEmpty && removing.isEmpty {
          version = current.version
        } else {
          version = try await table.commit(
            on: current, adding: adding, removing: removing, operation: operation, atMs: atMs, engineInfo: "stedi"
          ).version
        }
      } else {
        version = try await table.create(
          schema: Self.deltaSchema(schema), partitionColumns: partitionColumns, files: files, atMs: atMs,
          engineInfo: "stedi"
        ).version
      }
    } catch {
      throw Self.storageError(error, table: schema.folder)
    }
    // The table is Parquet now: an NDJSON version of it from an earlier run must not linger.
    unlink("\(tableFolder)/\(TablePublisher.dataFileName)")
    return ParquetPublishOutcome(
      version: version, filesWritten: adding.count, filesKept: files.count - adding.count,
      filesRemoved: removing.count, bytesWritten: written.reduce(0, +), removed: removing)
  }

  /// The current snapshot of `table`, or nil when it has no log.
  package static func snapshot(of table: DeltaTable) async throws(StorageError) -> DeltaSnapshot? {
    do {
      return try await table.snapshot()
    } catch {
      throw storageError(error, table: table.root)
    }
  }

  package static func storageError(_ error: DeltaLogError, table: String) -> StorageError {
    if case .storage(let inner) = error { return inner }
    return .invalidObject(key: "\(table)/_delta_log", reason: error.description)
  }

  package static func encode(
    _ values: [ParquetColumnValues], schema: ParquetSchema, options: ParquetWriterOptions, chunk: TableFileChunk,
    table: TableSchema
  ) throws(StorageError) -> [UInt8] {
    do {
      var writer = try ParquetWriter(schema: schema, options: options)
      try writer.append(columns: values)
      return try writer.finish()
    } catch {
      throw .writeFailed(path: "\(table.folder) (\(chunk.date ?? "all rows"))", reason: error.description)
    }
  }

  /// `part-NNNNN-<first 16 hex digits of the content's SHA-256>.parquet`: the same rows give the
  /// same name, so an unchanged file is recognised without reading it back.
  package static func fileName(chunk: TableFileChunk, bytes: [UInt8]) -> String {
    let digest = SHA256.hash(data: bytes).prefix(8).map { SecretKeyFile.hex([$0]) }.joined()
    return "part-\(EpochMilliseconds.pad(chunk.index, 5))-\(digest).parquet"
  }

  /// Per-file statistics for the Delta log: rows, null counts, and bounds of number columns.
  package static func statistics(_ values: [ParquetColumnValues], schema: TableSchema, rows: Int) -> DeltaFileStatistics
  {
    var minimum: [String: DeltaFileStatistics.Value] = [:]
    var maximum: [String: DeltaFileStatistics.Value] = [:]
    var nulls: [String: Int64] = [:]
    for (column, value) in zip(schema.columns, values) {
      let valid = value.valid
      nulls[column.name] = Int64(valid.map { $0.lazy.filter { !$0 }.count } ?? 0)
      switch value {
      case .int64(let numbers, _):
        var low = Int64.max
        var high = Int64.min
        for (row, number) in numbers.enumerated() where valid?[row] ?? true {
          low = min(low, number)
          high = max(high, number)
        }
        if low <= high {
          minimum[column.name] = .integer(low)
          maximum[column.name] = .integer(high)
        }
      case .double(let numbers, _):
        var low = Double.infinity
        var high = -Double.infinity
        for (row, number) in numbers.enumerated() where (valid?[row] ?? true) && !number.isNaN {
          low = min(low, number)
          high = max(high, number)
        }
        if low <= high, low.isFinite, high.isFinite {
          minimum[column.name] = .double(low)
          maximum[column.name] = .double(high)
        }
      case .string, .boolean:
        // No string bounds: commit files are kept for time travel and erasure does not rewrite
        // them, so an email, a serial number or a pseudonym must never be written there.
        break
      }
    }
    return DeltaFileStatistics(numRecords: Int64(rows), minValues: minimum, maxValues: maximum, nullCount: nulls)
  }

  /// Deletes for good the data files a commit of this table removed, and partition folders left empty.
  package func deleteRemovedFiles(_ removed: [DeltaRemoveFile]) async throws(StorageError) {
    do {
      try await DeltaTable(storage: FileSystemStorage(root: lake.root), root: schema.folder).deleteDataFiles(removed)
    } catch {
      throw Self.storageError(error, table: schema.folder)
    }
    Self.removeEmptyPartitionFolders(in: lake.path(schema.folder))
  }

  /// Deletes the files this publisher wrote that the current version does not hold: leftovers
  /// of a run killed before its commit or before it deleted what its commits removed. Files
  /// named otherwise are someone else's: left alone (`pipeline check` reports them).
  func removeUnreferencedFiles(keeping referenced: Set<String>) throws(StorageError) {
    let folder = lake.path(schema.folder)
    for relative in Self.dataFiles(in: folder)
    where Self.isOwnFile(relative) && !referenced.contains(DeltaTable.actionPath(relativeKey: relative)) {
      unlink("\(folder)/\(relative)")
    }
    Self.removeEmptyPartitionFolders(in: folder)
  }

  /// Whether `relative` is named as this publisher names data files (or their temporary files),
  /// in a partition folder of this table or at its root.
  package static func isOwnFile(_ relative: String) -> Bool {
    let parts = relative.split(separator: "/")
    guard parts.count == 1 || (parts.count == 2 && parts[0].hasPrefix("\(TableSchema.partitionColumnName)=")) else {
      return false
    }
    var name = Substring(parts.last!)
    if name.hasPrefix("."), name.hasSuffix(".tmp") {
      // TablePublisher's temporary name: `.<name>.<pid>.tmp`.
      name = name.dropFirst()
      guard let end = name.range(of: ".parquet.") else { return false }
      name = Substring(String(name[..<end.lowerBound]) + ".parquet")
    }
    guard name.hasPrefix("part-"), name.hasSuffix(".parquet") else { return false }
    let stem = name.dropFirst(5).dropLast(8).split(separator: "-")
    return stem.count == 2 && stem[0].count == 5 && stem[0].allSatisfy(\.isNumber) && stem[1].count == 16
      && stem[1].allSatisfy(\.isHexDigit)
  }

  /// Every Parquet file below `folder` (its log aside), as paths relative to it, hidden ones included.
  package static func dataFiles(in folder: String) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
    var files: [String] = []
    while let relative = enumerator.nextObject() as? String {
      if relative == "_delta_log" {
        enumerator.skipDescendants()
        continue
      }
      let name = (relative as NSString).lastPathComponent
      if name.hasSuffix(".parquet") || (name.hasPrefix(".part-") && name.hasSuffix(".tmp")) { files.append(relative) }
    }
    return files
  }

  static func removeEmptyPartitionFolders(in folder: String) {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
    for name in entries where name.hasPrefix("\(TableSchema.partitionColumnName)=") {
      rmdir("\(folder)/\(name)")  // fails, harmlessly, unless empty
    }
  }

  /// Removes a Parquet table entirely: its log and the data files it wrote (other files stay).
  package static func removeTable(at folder: String) throws(StorageError) {
    for relative in dataFiles(in: folder) where isOwnFile(relative) { unlink("\(folder)/\(relative)") }
    removeEmptyPartitionFolders(in: folder)
    do {
      if FileManager.default.fileExists(atPath: "\(folder)/_delta_log") {
        try FileManager.default.removeItem(atPath: "\(folder)/_delta_log")
      }
    } catch {
      throw .writeFailed(
        path: "\(folder)/_delta_log", reason: "cannot remove the old log (\(error.localizedDescription))")
    }
  }
}
