#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why opening, configuring, reading or writing a serial port failed.
public enum SerialPortError: Error, CustomStringConvertible, Sendable, Equatable {
  /// Nothing exists at the path (or the device vanished before it could be opened).
  case noSuchPort(path: String)
  /// The process may not open the device (on Linux usually: not in the `dialout` group).
  case permissionDenied(path: String)
  /// Another program (or another `SerialPort` in this process) holds the port.
  case busy(path: String)
  /// The device was opened but could not be set up as requested.
  case configurationFailed(path: String, reason: String)
  /// The device went away while open: USB unplug, or the pseudo-terminal's other side closed.
  case disconnected(path: String)
  /// A write could not hand all its bytes to the kernel in time (the peer stopped reading).
  case timedOut(path: String, operation: String)
  /// The port (or pseudo-terminal) was closed by this process before or during the operation.
  case closed(path: String)
  /// A system call failed for another reason.
  case io(path: String, operation: String, errno: Int32)
  /// Enumerating the serial ports failed.
  case listingFailed(reason: String)

  /// A readable sentence for logs and the command line.
  public var description: String {
    switch self {
    case .noSuchPort(let path):
      return "no serial port at \(path)"
    case .permissionDenied(let path):
      return "permission denied opening \(path) (on Linux, add the user to the 'dialout' group)"
    case .busy(let path):
      return "serial port \(path) is busy (opened and locked by another program)"
    case .configurationFailed(let path, let reason):
      return "could not configure serial port \(path): \(reason)"
    case .disconnected(let path):
      return "serial port \(path) disconnected (device unplugged or the other side closed)"
    case .timedOut(let path, let operation):
      return "\(operation) on serial port \(path) timed out"
    case .closed(let path):
      return "serial port \(path) is closed"
    case .io(let path, let operation, let code):
      return "\(operation) on serial port \(path) failed: \(errnoText(code)) (errno \(code))"
    case .listingFailed(let reason):
      return "could not list serial ports: \(reason)"
    }
  }
}

/// The C library's text for an errno value.
func errnoText(_ code: Int32) -> String {
  String(cString: strerror(code))
}

/// True for the errno values a tty answers with once its device is gone (hung up, unplugged, pty master closed).
func isDisconnectErrno(_ code: Int32) -> Bool {
  code == EIO || code == ENXIO || code == ENODEV
}

/// Maps an `open()` failure to the error a user can act on.
func openError(path: String, errno code: Int32) -> SerialPortError {
  switch code {
  case ENOENT, ENXIO, ENODEV, ENOTDIR:
    return .noSuchPort(path: path)
  case EACCES, EPERM:
    return .permissionDenied(path: path)
  case EBUSY:
    return .busy(path: path)
  default:
    return .io(path: path, operation: "open", errno: code)
  }
}
