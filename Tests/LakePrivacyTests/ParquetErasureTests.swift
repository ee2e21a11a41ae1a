import DeltaLog
import Foundation
import LakeStorage
import StediTestSupport
import Testing

@testable import LakePrivacy
@testable import Lakehouse

/// `LakeEraser` on a lake whose tables are Parquet under Delta logs (the strict default): only
/// the files that hold the customer are rewritten, one Delta version per table, and no file that
/// held them is left on disk, whichever version of the table held it.
@Suite struct ParquetErasureTests {
  /// Every file below the zone tables' folders (logs included), by path relative to the lake.
  static func tableFiles(_ lake: String) throws -> [String: Data] {
    var files: [String: Data] = [:]
    for table in ZoneTable.allCases {
      for file in try LakeErasureTests.allFiles(under: "\(lake)/\(table.folder)") {
        files[String(file.dropFirst(lake.count + 1))] = FileManager.default.contents(atPath: file)
      }
    }
    return files
  }

  /// Whether a data file holds one of `texts` in a row (rows rendered as NDJSON lines).
  static func holds(_ bytes: Data, _ texts: [String]) throws -> Bool {
    let lines = String(decoding: try ParquetTableFile(key: "file", bytes: Array(bytes)).renderedLines(), as: UTF8.self)
      .lowercased()
    return texts.contains { lines.contains($0.lowercased()) }
  }

  static func snapshot(_ lake: String, _ table: ZoneTable) async throws -> DeltaSnapshot {
    try #require(try await DeltaTable(storage: FileSystemStorage(root: lake), root: table.folder).snapshot())
  }

  /// A version that replaces a file of `table` holding one of `texts` by a copy under another
  /// name, as a compaction would: the file replaced stays on disk for readers of the version
  /// before. Returns its path.
  static func keepAnOlderVersionsFile(of table: ZoneTable, holding texts: [String], in lake: String) async throws
    -> String
  {
    let delta = DeltaTable(storage: FileSystemStorage(root: lake), root: table.folder)
    let snapshot = try #require(try await delta.snapshot())
    var old: DeltaAddFile?
    for file in snapshot.sortedFiles {
      let bytes = try #require(FileManager.default.contents(atPath: "\(lake)/\(table.folder)/\(file.path)"))
      if try holds(bytes, texts) {
        old = file
        break
      }
    }
    let replaced = try #require(old)
    var copy = replaced
    copy.path = ((replaced.path as NSString).deletingLastPathComponent as NSString)
      .appendingPathComponent("part-00001-fedcba9876543210.parquet")
    try FileManager.default.copyItem(
      atPath: "\(lake)/\(table.folder)/\(replaced.path)", toPath: "\(lake)/\(table.folder)/\(copy.path)")
    _ = try await delta.commit(
      on: snapshot, adding: [copy], removing: [DeltaRemoveFile(removing: replaced, at: 1, dataChange: false)],
      operation: "OPTIMIZE", atMs: 1)
    return "\(table.folder)/\(replaced.path)"
  }

  @Test func erasureRewritesOnlyTheFilesThatHoldTheCustomerAndDeletesTheOldOnesAtOnce() async throws {
    let (lake, chosen) = try await LakeErasureTests.makeLake()
    defer { TemporaryFolder(existing: lake).remove() }
    let customer = chosen.unique
    let texts = [customer.email, customer.serialNumber, LakeFixtures.testKey.subjectId(email: customer.email)]
    // A file of the customer that only an older version holds (kept for its readers).
    let older = try await Self.keepAnOlderVersionsFile(of: .accelerometerTrusted, holding: texts, in: lake)
    // And a killed run's leftover holding them, next to the customers table's file.
    let customerFile = try #require(try await Self.snapshot(lake, .customerTrusted).sortedFiles.first)
    let leftover = "\(ZoneTable.customerTrusted.folder)/part-00000-0123456789abcdef.parquet"
    try FileManager.default.copyItem(
      atPath: "\(lake)/\(ZoneTable.customerTrusted.folder)/\(customerFile.path)", toPath: "\(lake)/\(leftover)")

    var versions: [ZoneTable: Int64] = [:]
    var current: [ZoneTable: Set<String>] = [:]
    for table in ZoneTable.allCases {
      let snapshot = try await Self.snapshot(lake, table)
      versions[table] = snapshot.version
      current[table] = Set(snapshot.sortedFiles.map { "\(table.folder)/\($0.path)" })
    }
    let before = try Self.tableFiles(lake)
    let dataBefore = before.filter { $0.key.hasSuffix(".parquet") }
    var holding: Set<String> = []
    for (path, bytes) in dataBefore where try Self.holds(bytes, texts) { holding.insert(path) }
    let unreferenced = Set(dataBefore.keys).subtracting(current.values.joined())
    #expect(unreferenced == [leftover, older], "\(unreferenced.sorted())")
    #expect(unreferenced.allSatisfy(holding.contains), "the old files hold the customer")
    let touched = Set(
      ZoneTable.allCases.filter { table in current[table]!.contains { holding.contains($0) } })
    #expect(touched == Set(ZoneTable.allCases), "the customer is in every table")

    let report = try await LakeErasureTests.eraser(lake).erase(email: customer.email)
    #expect(report.deltaCommits == touched.count)
    #expect(report.oldFilesDeleted == unreferenced.count)

    // No row of theirs in any table, read back as any reader reads it.
    for table in ZoneTable.allCases {
      let lines = try await LakeErasureTests.tableLines(table, in: lake)
      #expect(!lines.isEmpty)
      for text in texts { #expect(!lines.contains { $0.contains(text) }, "\(table): \(text)") }
    }
    let after = try Self.tableFiles(lake)
    for (path, bytes) in dataBefore {
      if holding.contains(path) || unreferenced.contains(path) {
        // Gone from disk at once, not only from the log.
        #expect(after[path] == nil, "\(path) is still on disk")
      } else {
        #expect(after[path] == bytes, "\(path), which does not hold the customer, changed or went")
      }
    }
    for table in ZoneTable.allCases {
      let snapshot = try await Self.snapshot(lake, table)
      #expect(snapshot.version == versions[table]! + (touched.contains(table) ? 1 : 0), "\(table): one commit")
      // Every data file on disk is one the current version holds, and none holds the customer.
      let onDisk = Set(after.keys.filter { $0.hasPrefix("\(table.folder)/") && $0.hasSuffix(".parquet") })
      #expect(onDisk == Set(snapshot.sortedFiles.map { "\(table.folder)/\($0.path)" }), "\(table)")
      for path in onDisk { #expect(try !Self.holds(after[path]!, texts), "\(path)") }
      // The new commit is a DELETE that replaced only files of the customer.
      let digits = String(snapshot.version)
      let commitKey = "\(table.folder)/_delta_log/\(String(repeating: "0", count: 20 - digits.count))\(digits).json"
      let commit = String(decoding: after[commitKey] ?? Data(), as: UTF8.self)
      if touched.contains(table) {
        #expect(commit.contains("\"operation\":\"DELETE\""))
        for line in commit.split(separator: "\n") where line.contains("\"remove\"") {
          #expect(holding.contains { line.contains(String($0.dropFirst(table.folder.count + 1))) }, "\(line)")
        }
      }
    }
    // The logs, kept for time travel, never held the customer.
    for (path, bytes) in after where path.contains("/_delta_log/") {
      let text = String(decoding: bytes, as: UTF8.self).lowercased()
      for identifier in texts { #expect(!text.contains(identifier.lowercased()), "\(path)") }
    }
    #expect(report.rowsRemoved["accelerometer_trusted", default: 0] > 0)

    // A second erasure finds nothing left and commits nothing.
    let again = try await LakeErasureTests.eraser(lake).erase(email: customer.email)
    #expect(again.resumed && again.totalRowsRemoved == 0 && again.deltaCommits == 0 && again.oldFilesDeleted == 0)
  }

  /// delta-rs, an independent Delta reader, reads the erased tables' current versions: the rows
  /// this lake's reader gives, without the customer.
  @Test(.enabled(if: DeltaRsReader.python != nil, "no .venv-delta with deltalake: run scripts/test.sh"))
  func deltaRsReadsTheErasedTables() async throws {
    let (lake, chosen) = try await LakeErasureTests.makeLake()
    defer { TemporaryFolder(existing: lake).remove() }
    let customer = chosen.unique
    let subject = LakeFixtures.testKey.subjectId(email: customer.email)
    let tables = [ZoneTable.customerTrusted, .accelerometerTrusted, .machineLearningCurated]
    // This branch's publisher (c30e0c0) leaves the date column out of partitioned tables' Delta
    // schema, which delta-rs refuses before any erasure (fixed on main by 5020a6c).
    var readableBefore: Set<ZoneTable> = []
    for table in tables where (try? await DeltaRsReader.read("\(lake)/\(table.folder)")) != nil {
      readableBefore.insert(table)
    }
    #expect(readableBefore.contains(.customerTrusted))
    _ = try await LakeErasureTests.eraser(lake).erase(email: customer.email)
    for table in tables {
      guard readableBefore.contains(table) else {
        await withKnownIssue("delta-rs cannot read this branch's partitioned tables", isIntermittent: true) {
          _ = try await DeltaRsReader.read("\(lake)/\(table.folder)")
        }
        continue
      }
      let snapshot = try await Self.snapshot(lake, table)
      let answer = try await DeltaRsReader.read("\(lake)/\(table.folder)")
      #expect(answer["version"] as? Int == Int(snapshot.version), "\(table)")
      #expect(answer["files"] as? [String] == snapshot.sortedFiles.map(\.path), "\(table)")
      let rows = try #require(answer["rows"] as? [[String: Any]])
      // Time travel to the version before the erasure finds its files gone (delta-io/delta#1692).
      await #expect(throws: (any Error).self, "\(table): the erased rows are readable in an older version") {
        _ = try await DeltaRsReader.read("\(lake)/\(table.folder)", version: snapshot.version - 1)
      }
      let ours = try await LakeErasureTests.tableLines(table, in: lake)
      #expect(rows.count == ours.count, "\(table)")
      for row in rows {
        #expect(row["email"] as? String != customer.email && row["user"] as? String != customer.email)
        #expect(row["subjectId"] as? String != subject && row["serialNumber"] as? String != customer.serialNumber)
      }
    }
  }
}

/// delta-rs from `.venv-delta` (installed by scripts/test.sh; the suite that needs it is skipped without it).
enum DeltaRsReader {
  static let python: String? = {
    let path = TestPaths.packageRoot.appendingPathComponent(".venv-delta/bin/python").path
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
  }()

  /// The table's current version, data files (relative, sorted) and rows, as delta-rs reads them.
  static let script = """
    import json, os, sys
    from deltalake import DeltaTable
    table = DeltaTable(sys.argv[1])
    if len(sys.argv) > 2:
        table.load_as_version(int(sys.argv[2]))
    files = sorted(os.path.relpath(u.replace("file://", ""), sys.argv[1]) for u in table.file_uris())
    rows = table.to_pyarrow_table().to_pylist()
    print(json.dumps({"version": table.version(), "files": files, "rows": rows}, default=str))
    sys.stdout.flush()
    os._exit(0)
    """

  /// Throws when delta-rs cannot read it (at `version`, the current one when nil).
  static func read(_ folder: String, version: Int64? = nil) async throws -> [String: Any] {
    let data = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Data, any Error>) in
      DispatchQueue.global().async {
        continuation.resume(
          with: Result {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python!)
            process.arguments = ["-c", script, folder] + (version.map { [String($0)] } ?? [])
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
              throw StorageError.unreachable(location: folder, reason: "delta-rs failed")
            }
            return data
          })
      }
    }
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }
}
