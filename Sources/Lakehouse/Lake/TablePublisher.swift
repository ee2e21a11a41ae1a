// Atomic publication of a table.
//
// A table is one folder holding one file, part-00000.json. A run writes the new contents to a
// hidden temporary file in the same folder, syncs it, and renames it over the old file: rename
// is atomic, so a reader (or a run killed with SIGKILL at any instant) sees either the old table
// or the new one, never a mixture or a half-written file. Hidden names (leading '.') are
// skipped by this project's reader and by Spark/Hive, so leftovers of a killed run are
// invisible and are removed by the next run.

import Foundation
import LakeStorage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes one table's new contents and publishes them atomically.
public final class TablePublisher {
  /// The name of the single data file of every table this project writes.
  public static let dataFileName = "part-00000.json"

  public let folder: String
  public let finalPath: String
  private let temporaryPath: String
  private var fd: Int32 = -1
  private var committed = false
  private var writtenBytes = 0

  /// Starts a new version of the file `fileName` (the table's data file unless named) in `folder`
  /// (created if missing).
  public init(folder: String, fileName: String = TablePublisher.dataFileName) throws(StorageError) {
    self.folder = folder
    finalPath = "\(folder)/\(fileName)"
    temporaryPath = "\(folder)/.\(fileName).\(getpid()).tmp"
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
      throw .writeFailed(path: folder, reason: "cannot create the folder (\(error.localizedDescription))")
    }
    Self.removeLeftovers(of: fileName, in: folder)
    fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .fromErrno(errno, writing: temporaryPath) }
  }

  deinit {
    if !committed {
      if fd >= 0 { close(fd) }
      unlink(temporaryPath)
    }
  }

  /// Appends bytes to the new version.
  public func write(_ bytes: [UInt8]) throws(StorageError) {
    try write(pieces: [bytes])
  }

  /// Appends several pieces in order, copying them into the file on all cores at once.
  public func write(pieces: [[UInt8]]) throws(StorageError) {
    var offsets: [Int] = []
    var end = writtenBytes
    for piece in pieces {
      offsets.append(end)
      end += piece.count
    }
    let failures = UnsafeMutableBufferPointer<Int32>.allocate(capacity: pieces.count)
    defer { failures.deallocate() }
    failures.initialize(repeating: 0)
    let fd = self.fd
    concurrentForEach(pieces.count) { index in
      var done = 0
      let piece = pieces[index]
      while done < piece.count {
        let written = piece.withUnsafeBytes {
          pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offsets[index] + done))
        }
        if written < 0 {
          if errno == EINTR { continue }
          failures[index] = errno
          return
        }
        done += written
      }
    }
    if let failure = failures.first(where: { $0 != 0 }) { throw .fromErrno(failure, writing: finalPath) }
    writtenBytes = end
  }

  /// Makes the new version durable and visible in one step.
  public func commit() throws(StorageError) {
    guard fsync(fd) == 0 else { throw .fromErrno(errno, writing: finalPath) }
    guard close(fd) == 0 else {
      fd = -1
      throw .fromErrno(errno, writing: finalPath)
    }
    fd = -1
    guard rename(temporaryPath, finalPath) == 0 else { throw .fromErrno(errno, writing: finalPath) }
    committed = true
    // Sync the folder so the rename itself survives a power cut.
    let folderFD = open(folder, O_RDONLY | O_DIRECTORY)
    if folderFD >= 0 {
      fsync(folderFD)
      close(folderFD)
    }
  }

  /// Removes temporary files that a killed run left behind.
  static func removeLeftovers(of fileName: String, in folder: String) {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
    for name in entries where name.hasPrefix(".\(fileName).") && name.hasSuffix(".tmp") {
      unlink("\(folder)/\(name)")
    }
  }

  /// Replaces a small file (metadata) atomically with `contents`.
  public static func replaceFile(at path: String, with contents: [UInt8], mode: mode_t = 0o644) throws(StorageError) {
    let folder = (path as NSString).deletingLastPathComponent
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
      throw .writeFailed(path: folder, reason: "cannot create the folder (\(error.localizedDescription))")
    }
    let temporary = "\(path).\(getpid()).tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { throw .fromErrno(errno, writing: path) }
    var offset = 0
    while offset < contents.count {
      let written = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
      if written < 0 {
        let code = errno
        if code == EINTR { continue }
        close(fd)
        unlink(temporary)
        throw .fromErrno(code, writing: path)
      }
      offset += written
    }
    if fsync(fd) != 0 || close(fd) != 0 || rename(temporary, path) != 0 {
      let code = errno
      unlink(temporary)
      throw .fromErrno(code, writing: path)
    }
  }
}
