import LakeStorage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Exclusive use of a lake by one pipeline run at a time.
///
/// Two runs publishing into the same tables would remove each other's temporary files; the
/// second run fails at once with a clear message instead. The lock is a `flock` on
/// `_stedi/pipeline.lock`, which the kernel releases when the holder exits, even under SIGKILL,
/// so a killed run never leaves the lake locked.
public final class LakeLock {
  private let fd: Int32

  /// Takes the lock, or throws `.busy` if another run holds it.
  public init(lake: Lake) throws(StorageError) {
    let folder = lake.metadataFolder
    if mkdir(folder, 0o755) != 0, errno != EEXIST { throw .fromErrno(errno, writing: folder) }
    let path = "\(folder)/pipeline.lock"
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw .fromErrno(errno, writing: path) }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      let code = errno
      close(descriptor)
      if code == EWOULDBLOCK { throw .busy(path: lake.root, holder: "pipeline run") }
      throw .fromErrno(code, writing: path)
    }
    fd = descriptor
  }

  deinit {
    flock(fd, LOCK_UN)
    close(fd)
  }
}
