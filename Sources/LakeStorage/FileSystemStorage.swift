import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Lake storage in a folder on this machine: each key is a file path under `root`.
///
/// A put writes a hidden temporary file beside the final one and renames it over the final name,
/// so a reader sees the old object or the whole new one, never part of it; both the file and the
/// folder are synced, so a stored object survives a power cut. Names starting with `.` are such
/// temporary files (or hidden folders) and are never listed.
public struct FileSystemStorage: LakeStorage {
  /// The lake's folder.
  public let root: String

  /// Whether a put, once its file is synced, tells the kernel its pages need not stay cached.
  ///
  /// For a writer that never reads back what it writes (the ingest service's landing files):
  /// the page cache then reuses the same few pages for the next file instead of taking fresh
  /// ones for every file until memory is full. In the ingest benchmark's VM that cut the CPU
  /// time of writing an 8 MiB file from ~10 ms to ~3 ms. Off by default: a pipeline stage reads
  /// what the one before it wrote, and should find it in the cache.
  public var dropsWrittenFilesFromCache = false

  /// A storage in the folder `root` (created on the first put).
  public init(root: String) {
    self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
  }

  public var location: String { root }

  public func put(_ key: String, bytes: [UInt8]) async throws(StorageError) {
    // Writing megabytes and two fsyncs block for tens of milliseconds, so on a thread of their
    // own: on Swift's cooperative pool (and Dispatch's global queues, which share its threads on
    // Linux) they stalled every request of the ingest service meanwhile (its benchmark's p99).
    // One short-lived thread per object is cheap next to the write itself.
    let result: Result<Void, StorageError> = await withCheckedContinuation { continuation in
      let thread = Thread {
        continuation.resume(returning: Result { () throws(StorageError) in try putBlocking(key, bytes: bytes) })
      }
      thread.name = "lake-put"
      thread.start()
    }
    try result.get()
  }

  public func create(_ key: String, bytes: [UInt8]) async throws(StorageError) -> Bool {
    // As put: the write and its fsyncs on a thread of their own.
    let result: Result<Bool, StorageError> = await withCheckedContinuation { continuation in
      let thread = Thread {
        continuation.resume(
          returning: Result { () throws(StorageError) in try putBlocking(key, bytes: bytes, replacing: false) })
      }
      thread.name = "lake-create"
      thread.start()
    }
    return try result.get()
  }

  /// Writes a temporary file, syncs it and moves it to `key`: by rename (replacing) or, when
  /// not `replacing`, by link, which fails if the name exists; returns whether `key` was written.
  @discardableResult
  private func putBlocking(_ key: String, bytes: [UInt8], replacing: Bool = true) throws(StorageError) -> Bool {
    let path = try self.path(of: key)
    let folder = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    try createFolders(folder)
    // The name is shortened so that the temporary name fits where the final name does.
    let stem = String(decoding: name.utf8.prefix(100), as: UTF8.self)
    let temporary = "\(folder)/.\(stem).\(getpid()).\(String(UInt64.random(in: 0...UInt64.max), radix: 36)).tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw error(errno, path) }
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
      if written < 0 {
        let code = errno
        if code == EINTR { continue }
        close(fd)
        unlink(temporary)
        throw error(code, path)
      }
      offset += written
    }
    if fsync(fd) != 0 {
      let code = errno
      close(fd)
      unlink(temporary)
      throw error(code, path)
    }
    #if canImport(Glibc)
      // Advice only (the data is on disk already); a failure changes nothing but the cache.
      if dropsWrittenFilesFromCache { _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED)) }
    #endif
    if close(fd) != 0 {
      let code = errno
      unlink(temporary)
      throw error(code, path)
    }
    if replacing {
      if rename(temporary, path) != 0 {
        let code = errno
        unlink(temporary)
        throw error(code, path)
      }
    } else {
      // link(2) is the filesystem's create-if-absent for a complete file: the name appears
      // with all its bytes, or the call fails with EEXIST and nothing changes.
      let linked = link(temporary, path)
      let code = errno
      unlink(temporary)
      if linked != 0 {
        if code == EEXIST { return false }
        throw error(code, path)
      }
    }
    // Sync the folder so the rename itself survives a power cut.
    let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if folderFD >= 0 {
      fsync(folderFD)
      close(folderFD)
    }
    return true
  }

  public func get(_ key: String) async throws(StorageError) -> [UInt8] {
    let path = try self.path(of: key)
    // O_NONBLOCK: a FIFO at the key would otherwise block the open until a writer came (and
    // `lake erase` with it); the fstat below then refuses it, as list never shows it.
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
    guard fd >= 0 else { throw errno == EISDIR ? .notFound(key: key, location: root) : error(errno, path, key: key) }
    defer { close(fd) }
    var status = stat()
    guard fstat(fd, &status) == 0 else { throw error(errno, path, key: key) }
    guard (status.st_mode & S_IFMT) == S_IFREG else { throw .notFound(key: key, location: root) }
    // Puts replace files by renaming, never in place, so the open file keeps the size it had.
    var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
    var offset = 0
    while offset < bytes.count {
      let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
      if count < 0 {
        if errno == EINTR { continue }
        throw error(errno, path, key: key)
      }
      if count == 0 { break }
      offset += count
    }
    bytes.removeSubrange(offset...)
    return bytes
  }

  public func list(prefix: String) async throws(StorageError) -> [StoredObject] {
    // Walk from the deepest folder the prefix names; a prefix may end inside a name ("landing/2024-").
    let folderPart = prefix.lastIndex(of: "/").map { String(prefix[...$0]) } ?? ""
    var found: [StoredObject] = []
    try walk(relative: String(folderPart.dropLast()), prefix: prefix, into: &found)
    return found.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
  }

  public func delete(_ key: String) async throws(StorageError) {
    let path = try self.path(of: key)
    if unlink(path) != 0, errno != ENOENT { throw error(errno, path) }
  }

  // MARK: Paths

  /// The file path of `key`; refuses keys that would leave the root or name a folder.
  private func path(of key: String) throws(StorageError) -> String {
    let segments = key.split(separator: "/", omittingEmptySubsequences: false)
    guard !key.isEmpty, !key.hasPrefix("/"), !key.hasSuffix("/"),
      !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }), !key.utf8.contains(0)
    else {
      throw .invalidConfiguration("\"\(key)\" is not a valid lake key (a relative path without empty, . or .. parts)")
    }
    return "\(root)/\(key)"
  }

  /// `mkdir -p`, reporting the errno of the folder that could not be made.
  private func createFolders(_ folder: String) throws(StorageError) {
    if mkdir(folder, 0o755) == 0 || errno == EEXIST { return }
    guard errno == ENOENT else { throw error(errno, folder) }
    let parent = (folder as NSString).deletingLastPathComponent
    guard parent != folder, !parent.isEmpty else { throw error(ENOENT, folder) }
    try createFolders(parent)
    if mkdir(folder, 0o755) != 0, errno != EEXIST { throw error(errno, folder) }
  }

  /// Adds every file under `relative` (a folder path relative to the root, "" for the root)
  /// whose key starts with `prefix`.
  private func walk(relative: String, prefix: String, into found: inout [StoredObject]) throws(StorageError) {
    let folder = relative.isEmpty ? root : "\(root)/\(relative)"
    guard let directory = opendir(folder) else {
      // A folder that does not exist holds no objects, as an unused S3 prefix holds none.
      if errno == ENOENT || errno == ENOTDIR { return }
      throw error(errno, folder)
    }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) {
        String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
      }
      if name.hasPrefix(".") { continue }  // ".", "..", temporary files of puts in progress
      names.append(name)
    }
    for name in names {
      let key = relative.isEmpty ? name : "\(relative)/\(name)"
      // Only descend into folders that can hold matching keys.
      guard key.hasPrefix(prefix) || prefix.hasPrefix(key + "/") else { continue }
      var status = stat()
      // The file may have been removed since readdir: then it is simply not listed.
      guard stat("\(folder)/\(name)", &status) == 0 else { continue }
      if (status.st_mode & S_IFMT) == S_IFDIR {
        try walk(relative: key, prefix: prefix, into: &found)
      } else if (status.st_mode & S_IFMT) == S_IFREG, key.hasPrefix(prefix) {
        // Only regular files are objects: FIFOs, sockets and devices are never listed (nor opened).
        found.append(StoredObject(key: key, size: Int(status.st_size), lastModified: Self.modificationDate(status)))
      }
    }
  }

  /// A file's modification time.
  private static func modificationDate(_ status: stat) -> Date {
    #if canImport(Darwin)
      let time = status.st_mtimespec
    #else
      let time = status.st_mtim
    #endif
    return Date(timeIntervalSince1970: Double(time.tv_sec) + Double(time.tv_nsec) / 1e9)
  }

  // MARK: Errors

  /// The storage error for an errno met at `path`.
  func error(_ code: Int32, _ path: String, key: String? = nil) -> StorageError {
    Self.error(code, path: path, key: key, root: root)
  }

  /// The storage error for an errno met at `path` (no such file is `.notFound` when reading `key`).
  static func error(_ code: Int32, path: String, key: String?, root: String) -> StorageError {
    switch code {
    case ENOSPC, EDQUOT: return .diskFull(path: path)
    case ENOENT where key != nil, ENOTDIR where key != nil: return .notFound(key: key!, location: root)
    case EACCES, EPERM, EROFS:
      return .accessDenied(location: root, reason: "\(path): \(String(cString: strerror(code)))")
    default:
      return .failed(
        location: root, operation: key == nil ? "writing \(path)" : "reading \(path)",
        reason: String(cString: strerror(code)))
    }
  }
}
