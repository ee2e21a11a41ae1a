#if canImport(Glibc)
  import Glibc
#endif

/// Exclusive use of a write-ahead log folder by one ingest service.
///
/// Two services appending to one log would interleave sequence numbers and land each other's
/// batches. A `flock` is released by the kernel when its holder dies, even by SIGKILL, so a
/// crashed service never leaves the folder locked.
final class LogDirectoryLock: Sendable {
  private let descriptor: Int32

  init(directory: String) throws(IngestStartError) {
    let path = "\(directory)/lock"
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw .cannotLock(path: path, reason: String(cString: strerror(errno))) }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      let code = errno
      close(descriptor)
      if code == EWOULDBLOCK { throw .busy(directory: directory) }
      throw .cannotLock(path: path, reason: String(cString: strerror(code)))
    }
    self.descriptor = descriptor
  }

  /// Releases the lock (also done when the process exits).
  func release() {
    flock(descriptor, LOCK_UN)
    close(descriptor)
  }
}

/// Why the ingest service cannot start on its log folder.
public enum IngestStartError: Error, Sendable, CustomStringConvertible {
  case busy(directory: String)
  case cannotLock(path: String, reason: String)

  public var description: String {
    switch self {
    case .busy(let directory):
      "another ingest service is using the write-ahead log in \(directory); give each service its own --wal"
    case .cannotLock(let path, let reason): "cannot lock \(path): \(reason)"
    }
  }
}
