import Foundation
import LakeStorage
import Lakehouse

/// A fresh folder lake for one test, removed by `remove()`: its storage and what landed in it.
public struct TemporaryLake: Sendable {
  /// The folder the lake lives in.
  public let folder: TemporaryFolder

  /// Creates an empty lake folder; `name` defaults to the calling test.
  public init(_ name: String = #function, prefix: String = "stedi-lake") throws {
    folder = try TemporaryFolder(name, prefix: prefix)
  }

  /// The lake's root folder.
  public var root: String { folder.path }

  /// The lake's folder storage.
  public var storage: FileSystemStorage { FileSystemStorage(root: root) }

  /// The ingest service's default write-ahead log folder for a folder lake.
  public var logFolder: String { "\(root)/_stedi/ingest-wal" }

  /// The landing files of `source`, relative to the root, sorted (hidden files left out).
  public func landingFiles(_ source: LandingSource) -> [String] {
    let landing = "\(root)/\(source.landingFolder)"
    guard let enumerator = FileManager.default.enumerator(atPath: landing) else { return [] }
    return enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
      .map { "\(source.landingFolder)/\($0)" }
  }

  /// Every landing line of `source`, file by file in `landingFiles` order.
  public func landingLines(_ source: LandingSource) -> [String] {
    landingFiles(source).flatMap { file in
      // Decoded leniently: a malformed line need not be UTF-8, and one must not hide the file's other lines.
      FileManager.default.contents(atPath: "\(root)/\(file)").map { String(decoding: $0, as: UTF8.self) }?
        .split(separator: "\n").map(String.init) ?? []
    }
  }

  /// The bytes of every published table and quarantine file (relative path → contents), hidden files included.
  public func publishedTables() -> [String: Data] { Self.publishedTables(root) }

  /// The bytes of every data file of the published tables and quarantine of the folder lake at
  /// `root`, by path (Parquet partitions included; Delta logs left out, as they carry commit times).
  public static func publishedTables(_ root: String) -> [String: Data] {
    var tables: [String: Data] = [:]
    let folders = ZoneTable.allCases.map(\.folder) + LandingSource.allCases.map(\.quarantineFolder)
    for folder in folders {
      guard let files = FileManager.default.enumerator(atPath: "\(root)/\(folder)") else { continue }
      while let name = files.nextObject() as? String {
        if name == "_delta_log" {
          files.skipDescendants()
          continue
        }
        var isFolder: ObjCBool = false
        FileManager.default.fileExists(atPath: "\(root)/\(folder)/\(name)", isDirectory: &isFolder)
        if !isFolder.boolValue {
          tables["\(folder)/\(name)"] = FileManager.default.contents(atPath: "\(root)/\(folder)/\(name)")
        }
      }
    }
    return tables
  }

  /// What a reader sees of each table now (table folder or quarantine file → contents): an NDJSON
  /// table's files as they are; a Parquet table's current Delta version, replayed from its log
  /// here by hand (an independent reading), as its data files' paths and bytes in path order. A
  /// file the log names but the folder lacks shows as `missing`, so it cannot compare equal.
  public static func currentTables(_ root: String) -> [String: Data] {
    var tables = publishedTables(root).filter { key, _ in
      !ZoneTable.allCases.contains {
        FileManager.default.fileExists(atPath: "\(root)/\($0.folder)/_delta_log") && key.hasPrefix($0.folder + "/")
      }
    }
    for table in ZoneTable.allCases {
      let log = "\(root)/\(table.folder)/_delta_log"
      guard let commits = try? FileManager.default.contentsOfDirectory(atPath: log) else { continue }
      var files: Set<String> = []
      for commit in commits.filter({ $0.hasSuffix(".json") }).sorted() {
        let text =
          FileManager.default.contents(atPath: "\(log)/\(commit)").map { String(decoding: $0, as: UTF8.self) } ?? ""
        for line in text.split(separator: "\n") {
          guard let action = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            continue
          }
          if let add = action["add"] as? [String: Any], let path = add["path"] as? String { files.insert(path) }
          if let remove = action["remove"] as? [String: Any], let path = remove["path"] as? String {
            files.remove(path)
          }
        }
      }
      var contents = Data()
      for path in files.sorted() {
        contents += Data("\(path)\n".utf8)
        contents += FileManager.default.contents(atPath: "\(root)/\(table.folder)/\(path)") ?? Data("missing".utf8)
      }
      tables[table.folder] = contents
    }
    return tables
  }

  /// Removes the lake and everything in it.
  public func remove() { folder.remove() }
}
