#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The system calls the log makes, each turning errno into a `WALError` naming the path.
enum WALFileSystem {
  /// Creates `path` (mode 0700: the log holds user data) and any missing parents, and makes the new
  /// directory entries durable by syncing the directories that hold them.
  static func makeDirectory(_ path: String) throws(WALError) {
    if isDirectory(path) { return }
    let parent = parentDirectory(of: path)
    if parent != path && !isDirectory(parent) { try makeDirectory(parent) }
    if mkdir(path, 0o700) != 0 && !(errno == EEXIST && isDirectory(path)) {
      throw .cannotCreate(path: path, errno: errno)
    }
    try syncDirectory(parent)
  }

  /// Segment files in `directory` (other files are ignored), ordered by first LSN.
  static func listSegments(in directory: String) throws(WALError) -> [WALSegment] {
    guard let stream = opendir(directory) else { throw .cannotOpen(path: directory, errno: errno) }
    defer { closedir(stream) }
    var segments: [WALSegment] = []
    while let entry = readdir(stream) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      guard let first = WALSegment.firstLSN(fileName: name) else { continue }
      segments.append(WALSegment(firstLSN: first, path: directory + "/" + name, size: 0))
    }
    return segments.sorted { $0.firstLSN < $1.firstLSN }
  }

  /// The whole content of a file, read to its end.
  static func readAll(_ path: String) throws(WALError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
    defer { _ = close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .readFailed(path: path, errno: errno) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(Int(info.st_size))
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw .readFailed(path: path, errno: errno)
      }
      if count == 0 { return bytes }
      bytes.append(contentsOf: chunk[0..<count])
    }
  }

  /// Creates a new, empty segment file for appending; fails if it exists (a name is never reused).
  static func createSegment(_ path: String) throws(WALError) -> Int32 {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw .cannotCreate(path: path, errno: errno) }
    return fd
  }

  /// Opens an existing segment file for appending at its end.
  static func openSegmentForAppend(_ path: String) throws(WALError) -> Int32 {
    let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
    guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
    return fd
  }

  /// Writes all of `bytes`, continuing after short writes (one call in the normal case).
  static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(WALError) {
    var written = 0
    while written < bytes.count {
      let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
      if count < 0 {
        if errno == EINTR { continue }
        throw .writing(path, operation: "write", errno: errno)
      }
      // A regular file only accepts nothing when it cannot grow.
      if count == 0 { throw .diskFull(path: path) }
      written += count
    }
  }

  /// Forces the file's data, and the metadata needed to read it back (its length), to stable storage.
  static func dataSync(_ fd: Int32, path: String) throws(WALError) {
    #if canImport(Darwin)
      // Darwin's fsync leaves the data in the drive's cache; F_FULLFSYNC flushes that too.
      let result = fcntl(fd, F_FULLFSYNC)
      let operation = "fcntl(F_FULLFSYNC)"
    #else
      let result = fdatasync(fd)
      let operation = "fdatasync"
    #endif
    guard result == 0 else { throw .writing(path, operation: operation, errno: errno) }
  }

  /// Shortens an open file to `length` bytes (undoing a partly failed write).
  static func truncate(_ fd: Int32, to length: Int, path: String) throws(WALError) {
    guard ftruncate(fd, off_t(length)) == 0 else { throw .writing(path, operation: "ftruncate", errno: errno) }
  }

  /// Shortens a file to `length` bytes and syncs it, so the cut survives a crash that follows.
  static func truncateAndSync(_ path: String, to length: Int) throws(WALError) {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
    defer { _ = close(fd) }
    try truncate(fd, to: length, path: path)
    guard fsync(fd) == 0 else { throw .writing(path, operation: "fsync", errno: errno) }
  }

  /// Makes creations and deletions of entries in `directory` durable.
  static func syncDirectory(_ directory: String) throws(WALError) {
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw .cannotOpen(path: directory, errno: errno) }
    defer { _ = close(fd) }
    guard fsync(fd) == 0 else { throw .writing(directory, operation: "fsync of the directory", errno: errno) }
  }

  /// Deletes a file; one that is already gone counts as deleted.
  static func remove(_ path: String) throws(WALError) {
    guard unlink(path) == 0 || errno == ENOENT else { throw .writing(path, operation: "unlink", errno: errno) }
  }

  /// Closes a descriptor whose data has been synced (so a failure here loses nothing).
  static func closeFile(_ fd: Int32) {
    _ = close(fd)
  }

  private static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }

  private static func parentDirectory(of path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return "." }
    return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
  }
}
