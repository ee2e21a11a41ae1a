import DeltaLog
import Foundation
import LakeStorage
import Lakehouse

/// The objects under the sources' folders, sorted by how they are read: files of NDJSON lines
/// (landing, quarantine, NDJSON tables, anything else), and Parquet zone tables, whose data files
/// are binary and whose `_delta_log/` commit files hold actions, not records.
struct LakeZoneObjects: Sendable {
  /// Objects read line by line.
  var lineFiles: [StoredObject] = []
  /// The zone tables that have Parquet data files or a Delta log.
  var parquetTables: [ParquetZoneTable] = []
  /// Parquet files outside the zone tables' folders (no log names them): judged row by row.
  var looseParquet: [StoredObject] = []

  /// Lists the sources' folders of `storage` and reads each Parquet table's current snapshot.
  static func list(_ storage: any LakeStorage) async throws(StorageError) -> LakeZoneObjects {
    var objects: [StoredObject] = []
    for prefix in LakeZoneFile.sourcePrefixes { objects += try await storage.list(prefix: prefix) }
    var zone = LakeZoneObjects()
    var byTable: [String: [StoredObject]] = [:]
    var logged: Set<String> = []
    let tableFolders = Set(ZoneTable.allCases.map(\.folder))
    for object in objects {
      let folder = LakeZoneFile.tableFolder(of: object.key)
      if let folder, tableFolders.contains(folder), LakeZoneFile.isDeltaLog(object.key) {
        logged.insert(folder)
      } else if let folder, tableFolders.contains(folder), ParquetTableFile.isDataFile(object.key) {
        byTable[folder, default: []].append(object)
      } else if ParquetTableFile.isDataFile(object.key) {
        zone.looseParquet.append(object)
      } else if LakeZoneFile.isDeltaLog(object.key) {
        // A log outside a zone table's folder: actions, not records; the audit reads every byte of it.
        continue
      } else {
        zone.lineFiles.append(object)
      }
    }
    for folder in logged.union(byTable.keys).sorted() {
      let table = DeltaTable(storage: storage, root: folder)
      let snapshot: DeltaSnapshot?
      do {
        snapshot = logged.contains(folder) ? try await table.snapshot() : nil
      } catch {
        throw ParquetTablePublisher.storageError(error, table: folder)
      }
      zone.parquetTables.append(
        ParquetZoneTable(
          kind: LakeZoneFile(key: "\(folder)/x"), table: table, snapshot: snapshot, dataFiles: byTable[folder] ?? []))
    }
    return zone
  }

  /// Calls `body` with every record line of the tables of `kinds`: NDJSON lines as they are, and
  /// the current version's Parquet rows rendered as the lines the NDJSON tables had.
  func forEachRecordLine(
    of kinds: Set<LakeZoneFile>, storage: any LakeStorage, _ body: (UnsafeBufferPointer<UInt8>) -> Void
  ) async throws(StorageError) {
    for object in lineFiles where kinds.contains(LakeZoneFile(key: object.key)) {
      forEachLine(try await storage.get(object.key), body)
    }
    for table in parquetTables where kinds.contains(table.kind) {
      for file in table.currentFiles {
        let key = table.table.dataKey(path: file.path)
        let decoded = try ParquetTableFile(key: key, bytes: try await storage.get(key))
        forEachLine(decoded.renderedLines(), body)
      }
    }
  }

  /// Whether any table of `kinds` exists (as NDJSON files or a Parquet table with a version).
  func has(_ kind: LakeZoneFile) -> Bool {
    lineFiles.contains { LakeZoneFile(key: $0.key) == kind }
      || parquetTables.contains { $0.kind == kind && $0.snapshot != nil }
  }
}

/// A zone table written as Parquet: its log's current version and every data file in its folder.
struct ParquetZoneTable: Sendable {
  var kind: LakeZoneFile
  var table: DeltaTable
  /// The current version; nil when the folder has Parquet files but no log (left by a killed run).
  var snapshot: DeltaSnapshot?
  /// Every data file found in the folder (the log aside), referenced by the snapshot or not.
  var dataFiles: [StoredObject]

  /// The data files the current version holds, by path.
  var currentFiles: [DeltaAddFile] { snapshot?.sortedFiles ?? [] }

  /// The data files in the folder that the current version does not hold: files earlier
  /// versions held (kept for their readers) and files of runs killed before their commit.
  var unreferencedFiles: [StoredObject] {
    let referenced = Set(currentFiles.map { table.dataKey(path: $0.path) })
    return dataFiles.filter { !referenced.contains($0.key) }
  }
}
