import DeltaLog
import Foundation
import LakeStorage
import StediTestSupport
import Testing

/// Delta logs written here, read by delta-rs (the `deltalake` package, an independent Delta
/// implementation), and logs delta-rs wrote, read here.
@Suite(.enabled(if: DeltaPeer.python != nil, "no .venv-delta with deltalake: run scripts/test.sh, which installs it"))
struct DeltaTableTests {
  static let schema = DeltaSchema([
    .init(name: "id", type: "long", nullable: false), .init(name: "name", type: "string", nullable: true),
    .init(name: "date", type: "string", nullable: true),
  ])

  /// A data file pyarrow wrote under the table, as an add action with its statistics.
  static func dataFile(
    _ table: DeltaTable, folder: String, date: String, name: String, rows: [(Int64, String)]
  ) async throws -> DeltaAddFile {
    let relative = "date=\(date)/\(name)"
    let json = "[" + rows.map { "{\"id\":\($0.0),\"name\":\"\($0.1)\"}" }.joined(separator: ",") + "]"
    let answer = try await DeltaPeer.run(["write-parquet", "\(folder)/\(table.root)", relative, json])
    let size = try #require(answer["size"] as? Int)
    let stats = DeltaFileStatistics(
      numRecords: Int64(rows.count), minValues: ["id": .integer(rows.map(\.0).min()!)],
      maxValues: ["id": .integer(rows.map(\.0).max()!)], nullCount: ["id": 0, "name": 0])
    return DeltaAddFile(
      path: DeltaTable.actionPath(relativeKey: relative), partitionValues: ["date": date], size: Int64(size),
      modificationTime: 1_765_000_000_000, stats: stats)
  }

  static func ids(_ answer: [String: Any]) -> [Int] {
    ((answer["rows"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? Int }
  }

  @Test func deltaRsReadsEveryVersionWeCommitAndErasedFilesAreGoneForGood() async throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let storage = FileSystemStorage(root: folder.path)
    let table = DeltaTable(storage: storage, root: "machine_learning_curated")
    let a = try await Self.dataFile(
      table, folder: folder.path, date: "2026-01-01", name: "part-a.parquet", rows: [(1, "a"), (2, "b")])
    let b = try await Self.dataFile(
      table, folder: folder.path, date: "2026-01-02", name: "part-b.parquet", rows: [(3, "c")])
    let created = try await table.create(schema: Self.schema, partitionColumns: ["date"], files: [a, b], atMs: 1)
    #expect(created.version == 0)

    var answer = try await DeltaPeer.run(["read", "\(folder.path)/machine_learning_curated"])
    #expect(answer["version"] as? Int == 0)
    #expect(Self.ids(answer) == [1, 2, 3])
    let dates = ((answer["rows"] as? [[String: Any]]) ?? []).compactMap { $0["date"] as? String }
    #expect(dates == ["2026-01-01", "2026-01-01", "2026-01-02"])

    // An erasure of id 2: partition 2026-01-01 rewritten without it, the old file removed.
    let rewritten = try await Self.dataFile(
      table, folder: folder.path, date: "2026-01-01", name: "part-c.parquet", rows: [(1, "a")])
    let removal = DeltaRemoveFile(removing: a, at: 2)
    let next = try await table.commit(
      on: created, adding: [rewritten], removing: [removal], operation: "DELETE", atMs: 2)
    #expect(next.version == 1)
    #expect(next.sortedFiles.map(\.path) == ["date=2026-01-01/part-c.parquet", "date=2026-01-02/part-b.parquet"])
    answer = try await DeltaPeer.run(["read", "\(folder.path)/machine_learning_curated"])
    #expect(answer["version"] as? Int == 1)
    #expect(Self.ids(answer) == [1, 3])
    // Until the removed file is deleted, version 0 still reads (time travel)...
    #expect(Self.ids(try await DeltaPeer.run(["read", "\(folder.path)/machine_learning_curated", "0"])) == [1, 2, 3])
    // ...and once it is, the erased row is gone from every version that can still be read.
    try await table.deleteDataFiles([removal])
    #expect(
      !FileManager.default.fileExists(atPath: "\(folder.path)/machine_learning_curated/date=2026-01-01/part-a.parquet"))
    #expect(Self.ids(try await DeltaPeer.run(["read", "\(folder.path)/machine_learning_curated"])) == [1, 3])

    // Reading our own log back gives the snapshot we committed.
    let reread = try #require(try await table.snapshot())
    #expect(reread == next)
    #expect(reread.schema == Self.schema)
  }

  @Test func twoWritersOfOneVersionCannotBothCommit() async throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let table = DeltaTable(storage: FileSystemStorage(root: folder.path), root: "t")
    let created = try await table.create(schema: Self.schema, partitionColumns: ["date"], atMs: 1)
    let file = DeltaAddFile(
      path: "date=x/f.parquet", partitionValues: ["date": "x"], size: 1, modificationTime: 1, stats: nil)
    _ = try await table.commit(on: created, adding: [file], removing: [], operation: "WRITE", atMs: 2)
    await #expect(throws: DeltaLogError.conflict(table: "t", version: 1)) {
      _ = try await table.commit(on: created, adding: [], removing: [], operation: "WRITE", atMs: 3)
    }
    await #expect(throws: DeltaLogError.conflict(table: "t", version: 0)) {
      _ = try await table.create(schema: Self.schema, partitionColumns: [], atMs: 4)
    }
    #expect(try await table.snapshot()?.version == 1)
  }

  @Test func aLogDeltaRsWroteReadsAsDeltaRsReadsIt() async throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let answer = try await DeltaPeer.run(["write-delta", "\(folder.path)/written"])
    let table = DeltaTable(storage: FileSystemStorage(root: folder.path), root: "written")
    let snapshot = try #require(try await table.snapshot())
    #expect(snapshot.version == Int64(try #require(answer["version"] as? Int)))
    let theirs = try #require(answer["files"] as? [String])
    #expect(snapshot.sortedFiles.map { $0.path.removingPercentEncoding ?? $0.path } == theirs)
    #expect(snapshot.schema?.fields.map(\.name) == answer["columns"] as? [String])
    #expect(snapshot.metadata?.partitionColumns == ["date"])
  }

  @Test func aDamagedCommitIsRefusedNamingIt() async throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let storage = FileSystemStorage(root: folder.path)
    let table = DeltaTable(storage: storage, root: "t")
    _ = try await table.create(schema: Self.schema, partitionColumns: [], atMs: 1)
    try await storage.put("t/_delta_log/00000000000000000001.json", bytes: Array("{\"add\": {\"path\": 7}\n".utf8))
    do {
      _ = try await table.snapshot()
      Issue.record("a damaged commit was read")
    } catch {
      #expect(error.description.hasPrefix("t/_delta_log/00000000000000000001.json: not a Delta commit: line 1"))
    }
  }
}

/// The Python with pyarrow and deltalake (`.venv-delta`, installed by scripts/test.sh).
enum DeltaPeer {
  static let python: String? = {
    let path = TestPaths.packageRoot.appendingPathComponent(".venv-delta/bin/python").path
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
  }()

  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("delta_peer.py").path

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// Runs one command of delta_peer.py and returns the JSON it printed. The wait happens on a
  /// Dispatch thread, not on the test runner's few cooperative threads, which other suites need.
  static func run(_ arguments: [String]) async throws -> [String: Any] {
    let data = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Data, any Error>) in
      DispatchQueue.global().async { continuation.resume(with: Result { try runBlocking(arguments) }) }
    }
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  private static func runBlocking(_ arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try #require(python))
    process.arguments = [script] + arguments
    let output = Pipe()
    // stderr into a file: two pipes read one after the other can deadlock once one fills.
    let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("delta-peer-\(UUID()).err")
    _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorFile) }
    let errors = try FileHandle(forWritingTo: errorFile)
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try? errors.close()
    guard process.terminationStatus == 0, process.terminationReason == .exit else {
      let problem = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
      throw Failure(description: "delta_peer.py \(arguments.first ?? ""): \(problem)")
    }
    return data
  }
}
