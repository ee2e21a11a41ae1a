#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Which implementation drives a serial port.
public enum SerialBackendKind: String, Sendable, Hashable, CaseIterable {
  /// libserialport: real serial devices (USB CDC-ACM, FTDI, built-in UARTs).
  case libserialport
  /// Plain POSIX termios: pseudo-terminals, which libserialport refuses.
  case termios

  /// Environment variable that forces a backend for every port: `libserialport` or `termios`.
  public static let environmentVariable = "STEDI_SERIAL_BACKEND"

  /// The backend a path needs: termios for pseudo-terminals (also through symlinks), libserialport otherwise.
  public static func automatic(forPath path: String) -> SerialBackendKind {
    isPseudoTerminal(path: path) ? .termios : .libserialport
  }

  /// The backend to use: `requested` if given, else the environment variable, else `automatic(forPath:)`.
  public static func select(
    forPath path: String, requested: SerialBackendKind? = nil,
    environmentValue: String? = currentEnvironmentValue()
  ) throws(SerialPortError) -> SerialBackendKind {
    if let requested { return requested }
    if let value = environmentValue, !value.isEmpty {
      guard let forced = SerialBackendKind(rawValue: value.lowercased()) else {
        throw .configurationFailed(
          path: path, reason: "\(environmentVariable) must be 'libserialport' or 'termios', not '\(value)'")
      }
      return forced
    }
    return automatic(forPath: path)
  }

  /// The current value of `STEDI_SERIAL_BACKEND`, if set.
  public static func currentEnvironmentValue() -> String? {
    getenv(environmentVariable).map { String(cString: $0) }
  }

  /// A pty slave is recognised by where its path resolves (devpts) or, on Linux, by its device major: Unix98 pty
  /// slaves use majors 136-143 (the kernel's Documentation/admin-guide/devices.txt), wherever devpts is mounted.
  static func isPseudoTerminal(path: String) -> Bool {
    if let resolved = resolvedPath(path), resolved.hasPrefix("/dev/pts/") { return true }
    #if os(Linux)
      var info = stat()
      guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFCHR else { return false }
      let major = (info.st_rdev >> 8) & 0xfff  // glibc's gnu_dev_major for majors < 4096
      return (136...143).contains(major)
    #else
      return false
    #endif
  }
}

/// `path` with every symlink resolved, or nil if it does not exist.
func resolvedPath(_ path: String) -> String? {
  guard let resolved = realpath(path, nil) else { return nil }
  defer { free(resolved) }
  return String(cString: resolved)
}

/// Outcome of one non-blocking read.
enum BackendRead {
  case bytes(Int)
  case wouldBlock
  case endOfFile
  case failed(errno: Int32)
}

/// Outcome of one non-blocking write.
enum BackendWrite {
  case wrote(Int)
  case wouldBlock
  case failed(errno: Int32)
}

/// An open, configured port; non-blocking. `SerialPort` serialises access (one reader thread, one writer at a time,
/// `close` exclusive through `CloseGate`).
protocol SerialBackend: Sendable {
  /// The fd to poll for readability/writability.
  var descriptor: Int32 { get }
  func read(into buffer: UnsafeMutableRawBufferPointer) -> BackendRead
  func write(_ bytes: UnsafeRawBufferPointer) -> BackendWrite
  func close()
}

/// Drops the lock of `lockExclusively`; backends call it just before closing the fd.
///
/// Closing alone is not enough: the lock belongs to the open file description, and a process spawned by another
/// thread at that moment holds a copy of every fd (O_CLOEXEC ones too) until its exec, so the lock, and with it a
/// reopen of the path, would stay busy for that long. An explicit unlock acts on the description itself.
func unlockExclusively(_ fd: Int32) {
  while flock(fd, LOCK_UN) != 0 && errno == EINTR {}
}

/// Takes the advisory exclusive lock that marks a port as in use, so two programs do not both talk to the device.
/// flock, not TIOCEXCL: TIOCEXCL does not stop root, and it would also lock out tools that share a pty on purpose.
func lockExclusively(_ fd: Int32, path: String) throws(SerialPortError) {
  while flock(fd, LOCK_EX | LOCK_NB) != 0 {
    let code = errno
    if code == EINTR { continue }
    if code == EWOULDBLOCK { throw .busy(path: path) }
    if code == ENOLCK || code == EINVAL { return }  // no lock support on this file system: proceed unlocked
    throw .io(path: path, operation: "flock", errno: code)
  }
}
