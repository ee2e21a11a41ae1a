import Foundation
import StediTestSupport
import Testing

/// What a lake table folder holds, read as its readers would: NDJSON lines, or Parquet files read
/// by pyarrow (Fixtures/parquet_table.py in `.venv-parquet`) with their Hive partition values.
struct TableFolder {
  /// One Parquet file: its path under the folder and its columns as [name, physical type, logical
  /// type, repetition], as pyarrow reports them.
  struct ParquetFile {
    var path: String
    var columns: [[String]]
  }

  /// Every row; in a partitioned Parquet table with its partition values (e.g. "date") added.
  var rows: [[String: Any]]
  var files: [ParquetFile] = []
  /// The visible partition folders, e.g. "date=2022-06-18".
  var partitions: [String] = []
  /// Visible entries that are neither data files nor partition folders.
  var other: [String] = []

  /// The Python with pyarrow, if `.venv-parquet` is there (scripts/test.sh installs it).
  static let parquetPython: String? = {
    let path = TestPaths.packageRoot.appendingPathComponent(".venv-parquet/bin/python").path
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
  }()

  /// An NDJSON table folder: the lines of its visible .json files (Spark's part files, stedi's file).
  static func ndjson(_ folder: String) throws -> TableFolder {
    var rows: [[String: Any]] = []
    var other: [String] = []
    for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    where !name.hasPrefix(".") && !name.hasPrefix("_") {
      guard name.hasSuffix(".json") else {
        other.append(name)
        continue
      }
      let text = try String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8)
      for line in text.split(separator: "\n") where !line.isEmpty {
        rows.append(try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]))
      }
    }
    return TableFolder(rows: rows, other: other)
  }

  /// A Parquet table folder, read by pyarrow; `scratch` is a folder for the reader's output.
  static func parquet(_ folder: String, scratch: String) throws -> TableFolder {
    let python = try #require(parquetPython, "no .venv-parquet with pyarrow")
    let script = TestPaths.packageRoot.appendingPathComponent("Tests/stediTests/Fixtures/parquet_table.py").path
    let out = "\(scratch)/parquet-table-\(UUID().uuidString)"
    FileManager.default.createFile(atPath: out + ".err", contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [script, folder, out + ".json"]
    process.environment = ProcessInfo.processInfo.environment.merging(["PYTHONDONTWRITEBYTECODE": "1"]) { $1 }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: out + ".err"))
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    let complaints = String(decoding: FileManager.default.contents(atPath: out + ".err") ?? Data(), as: UTF8.self)
    try #require(process.terminationStatus == 0, "parquet_table.py \(folder) failed: \(complaints.suffix(2000))")
    let data = try Data(contentsOf: URL(fileURLWithPath: out + ".json"))
    try? FileManager.default.removeItem(atPath: out + ".json")
    try? FileManager.default.removeItem(atPath: out + ".err")
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let files = (object["files"] as? [[String: Any]] ?? []).map {
      ParquetFile(path: $0["path"] as? String ?? "", columns: $0["columns"] as? [[String]] ?? [])
    }
    return TableFolder(
      rows: object["rows"] as? [[String: Any]] ?? [], files: files, partitions: object["partitions"] as? [String] ?? [],
      other: object["other"] as? [String] ?? [])
  }

  /// Every row as canonical text (keys sorted, numbers as doubles; a null value as an absent key, as
  /// NDJSON writers leave nulls out and Parquet has a value or null in every column), sorted.
  var canonicalRows: [String] {
    rows.map { object in
      object.keys.sorted().compactMap { key -> String? in
        switch object[key] {
        case let number as NSNumber: return "\(key)=\(number.doubleValue)"
        case let string as String: return "\(key)=\(string)"
        default: return nil
        }
      }.joined(separator: "|")
    }.sorted()
  }
}
