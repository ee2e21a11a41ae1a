import Foundation
import LakeStorage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A lake on the local filesystem: a folder laid out like STEDI's S3 bucket.
public struct Lake: Sendable {
  /// The lake's root folder.
  public let root: String

  /// Opens the lake at `root`; it must exist.
  public init(root: String) throws(StorageError) {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
      throw .lakeNotFound(path: root)
    }
    guard isDirectory.boolValue else { throw .notAFolder(path: root) }
    self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
  }

  /// The absolute path of a lake-relative path.
  public func path(_ relative: String) -> String { "\(root)/\(relative)" }

  /// Where the pipeline keeps metadata that is not a table (the pseudonym key, the last run).
  public var metadataFolder: String { path("_stedi") }

  /// Every NDJSON file of a table folder, recursively, in a stable order; hidden files
  /// (leading `.` or `_`, as Spark and Hive skip them) are not part of a table.
  public func tableFiles(in folder: String) throws(StorageError) -> [LakeFile] {
    let base = path(folder)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: base, isDirectory: &isDirectory) else { return [] }
    guard isDirectory.boolValue else { throw .notAFolder(path: base) }
    var files: [LakeFile] = []
    try collect(folder: folder, into: &files)
    files.sort { $0.relativePath < $1.relativePath }
    return files
  }

  private func collect(folder: String, into files: inout [LakeFile]) throws(StorageError) {
    let entries: [String]
    do {
      entries = try FileManager.default.contentsOfDirectory(atPath: path(folder))
    } catch {
      throw .unreadable(path: path(folder), reason: "cannot list the folder (\(error.localizedDescription))")
    }
    for name in entries where !name.hasPrefix(".") && !name.hasPrefix("_") {
      let relative = "\(folder)/\(name)"
      // stat, never open: opening a FIFO blocks until a writer comes, and a run holds the lake's lock.
      var status = stat()
      guard stat(path(relative), &status) == 0 else {
        // Listed but not there: a broken symbolic link. Skipping it could silently lose a batch.
        throw .unreadable(path: path(relative), reason: "the file cannot be opened (a broken link?)")
      }
      let type = LakeFileType(mode: status.st_mode)
      if type == .directory {
        try collect(folder: relative, into: &files)
      } else if name.hasSuffix(".json") {
        let size = type == .regular ? Int(status.st_size) : 0
        files.append(LakeFile(relativePath: relative, absolutePath: path(relative), size: size, type: type))
      }
    }
  }
}

/// One NDJSON file of a table.
public struct LakeFile: Sendable, Hashable {
  /// The path relative to the lake root, as quarantine entries name it.
  public var relativePath: String
  public var absolutePath: String
  public var size: Int
  /// What the directory listing found; anything but `.regular` is reported and never opened.
  public var type: LakeFileType = .regular
}
