import CLibSerialPort

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A port driven by libserialport; used for real serial devices.
final class LibSerialPortBackend: SerialBackend, @unchecked Sendable {
  // @unchecked: `port` is a C handle; SerialPort serialises all calls on it (see SerialBackend).
  private let port: OpaquePointer
  let descriptor: Int32

  init(path: String, configuration: SerialConfiguration) throws(SerialPortError) {
    // libserialport finds a port's metadata under /sys/class/tty/<name>, so it needs the real /dev/ttyXXX name,
    // not a /dev/serial/by-id/… symlink.
    let devicePath = resolvedPath(path) ?? path
    var handle: OpaquePointer?
    let lookup = sp_get_port_by_name(devicePath, &handle)
    guard lookup == SP_OK, let handle else {
      throw .configurationFailed(
        path: path,
        reason: "libserialport does not recognise it as a serial device (\(libSerialPortErrorText(lookup)));"
          + " for a pseudo-terminal use the termios backend")
    }
    let opened = sp_open(handle, SP_MODE_READ_WRITE)
    guard opened == SP_OK else {
      let error: SerialPortError =
        opened == SP_ERR_FAIL && [ENOENT, ENXIO, ENODEV, EACCES, EPERM, EBUSY].contains(sp_last_error_code())
        ? openError(path: path, errno: sp_last_error_code())
        : .configurationFailed(path: path, reason: "sp_open: \(libSerialPortErrorText(opened))")
      sp_free_port(handle)
      throw error
    }
    var fd: Int32 = -1
    do throws(SerialPortError) {
      guard sp_get_port_handle(handle, &fd) == SP_OK, fd >= 0 else {
        throw .configurationFailed(path: path, reason: "libserialport gave no file descriptor")
      }
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      try lockExclusively(fd, path: path)
      try Self.configure(handle, path: path, configuration)
    } catch {
      sp_close(handle)
      sp_free_port(handle)
      throw error
    }
    port = handle
    descriptor = fd
  }

  private static func configure(
    _ port: OpaquePointer, path: String, _ configuration: SerialConfiguration
  ) throws(SerialPortError) {
    guard let baudRate = Int32(exactly: configuration.baudRate), baudRate > 0 else {
      throw .configurationFailed(path: path, reason: "invalid baud rate \(configuration.baudRate)")
    }
    let flowControl: sp_flowcontrol =
      switch configuration.flowControl {
      case .none: SP_FLOWCONTROL_NONE
      case .rtsCts: SP_FLOWCONTROL_RTSCTS
      case .xonXoff: SP_FLOWCONTROL_XONXOFF
      }
    let steps: [(String, () -> sp_return)] = [
      ("baud rate \(configuration.baudRate)", { sp_set_baudrate(port, baudRate) }),
      ("8 data bits", { sp_set_bits(port, 8) }),
      ("no parity", { sp_set_parity(port, SP_PARITY_NONE) }),
      ("1 stop bit", { sp_set_stopbits(port, 1) }),
      ("flow control \(configuration.flowControl.rawValue)", { sp_set_flowcontrol(port, flowControl) }),
    ]
    for (what, step) in steps {
      let result = step()
      guard result == SP_OK else {
        throw .configurationFailed(path: path, reason: "\(what): \(libSerialPortErrorText(result))")
      }
    }
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) -> BackendRead {
    let result = sp_nonblocking_read(port, buffer.baseAddress, buffer.count)
    if result.rawValue > 0 { return .bytes(Int(result.rawValue)) }
    if result.rawValue < 0 { return .failed(errno: sp_last_error_code()) }
    // libserialport reports both "nothing yet" and end-of-file as 0. A hung-up tty (device unplugged, pty master
    // closed) also fails FIONREAD with EIO, which tells the two apart without spinning on a readable fd.
    let waiting = sp_input_waiting(port)
    return waiting.rawValue < 0 ? .endOfFile : .wouldBlock
  }

  func write(_ bytes: UnsafeRawBufferPointer) -> BackendWrite {
    let result = sp_nonblocking_write(port, bytes.baseAddress, bytes.count)
    if result.rawValue >= 0 { return .wrote(Int(result.rawValue)) }
    let code = sp_last_error_code()
    return code == EAGAIN || code == EWOULDBLOCK || code == EINTR ? .wouldBlock : .failed(errno: code)
  }

  func close() {
    unlockExclusively(descriptor)
    sp_close(port)
    sp_free_port(port)
  }
}
