#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A port driven with plain POSIX calls and termios; used for pseudo-terminals.
final class TermiosBackend: SerialBackend {
  let descriptor: Int32

  init(path: String, configuration: SerialConfiguration) throws(SerialPortError) {
    let fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { throw openError(path: path, errno: errno) }
    do {
      try lockExclusively(fd, path: path)
      try Self.configure(fd, path: path, configuration)
    } catch {
      posixClose(fd)
      throw error
    }
    descriptor = fd
  }

  /// Raw mode, 8N1, receiver on, modem lines ignored, and the requested speed and flow control.
  private static func configure(
    _ fd: Int32, path: String, _ configuration: SerialConfiguration
  ) throws(SerialPortError) {
    guard isatty(fd) == 1 else {
      throw .configurationFailed(path: path, reason: "not a terminal device")
    }
    guard let speed = speedConstant(configuration.baudRate) else {
      throw .configurationFailed(
        path: path, reason: "baud rate \(configuration.baudRate) is not a standard termios speed")
    }
    var settings = termios()
    guard tcgetattr(fd, &settings) == 0 else {
      throw .configurationFailed(path: path, reason: "tcgetattr: \(errnoText(errno))")
    }
    // cfmakeraw: no echo, no canonical lines, no signals, no CR/LF translation, no stripping, no output processing,
    // so every byte value passes unchanged.
    cfmakeraw(&settings)
    settings.c_cflag &= ~tcflag_t(CSIZE | PARENB | CSTOPB)
    settings.c_cflag |= tcflag_t(CS8 | CREAD | CLOCAL)
    settings.c_cflag &= ~tcflag_t(CRTSCTS)
    settings.c_iflag &= ~tcflag_t(IXON | IXOFF | IXANY)
    switch configuration.flowControl {
    case .none: break
    case .rtsCts: settings.c_cflag |= tcflag_t(CRTSCTS)
    case .xonXoff: settings.c_iflag |= tcflag_t(IXON | IXOFF)
    }
    withUnsafeMutableBytes(of: &settings.c_cc) { cc in
      cc[Int(VMIN)] = 1
      cc[Int(VTIME)] = 0
    }
    guard cfsetspeed(&settings, speed) == 0 else {
      throw .configurationFailed(path: path, reason: "cfsetspeed(\(configuration.baudRate)): \(errnoText(errno))")
    }
    guard tcsetattr(fd, TCSANOW, &settings) == 0 else {
      throw .configurationFailed(path: path, reason: "tcsetattr: \(errnoText(errno))")
    }
  }

  /// The termios `B…` constant for a rate; termios only accepts these fixed values.
  static func speedConstant(_ baudRate: Int) -> speed_t? {
    var table: [Int: Int] = [
      50: Int(B50), 75: Int(B75), 110: Int(B110), 134: Int(B134), 150: Int(B150), 200: Int(B200), 300: Int(B300),
      600: Int(B600), 1200: Int(B1200), 1800: Int(B1800), 2400: Int(B2400), 4800: Int(B4800), 9600: Int(B9600),
      19200: Int(B19200), 38400: Int(B38400), 57600: Int(B57600), 115_200: Int(B115200), 230_400: Int(B230400),
    ]
    #if os(Linux)
      let linuxRates: [Int: Int] = [
        460_800: Int(B460800), 500_000: Int(B500000), 576_000: Int(B576000), 921_600: Int(B921600),
        1_000_000: Int(B1000000), 1_152_000: Int(B1152000), 1_500_000: Int(B1500000), 2_000_000: Int(B2000000),
        2_500_000: Int(B2500000), 3_000_000: Int(B3000000), 3_500_000: Int(B3500000), 4_000_000: Int(B4000000),
      ]
      table.merge(linuxRates) { old, _ in old }
    #else
      // Darwin's termios has no constants above 230400, but its cfsetspeed takes the rate itself.
      if baudRate > 0 { return speed_t(baudRate) }
    #endif
    return table[baudRate].map { speed_t($0) }
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) -> BackendRead {
    let count = posixRead(descriptor, buffer.baseAddress, buffer.count)
    if count > 0 { return .bytes(count) }
    if count == 0 { return .endOfFile }
    let code = errno
    return code == EAGAIN || code == EWOULDBLOCK || code == EINTR ? .wouldBlock : .failed(errno: code)
  }

  func write(_ bytes: UnsafeRawBufferPointer) -> BackendWrite {
    let count = posixWrite(descriptor, bytes.baseAddress, bytes.count)
    if count >= 0 { return .wrote(count) }
    let code = errno
    return code == EAGAIN || code == EWOULDBLOCK || code == EINTR ? .wouldBlock : .failed(errno: code)
  }

  func close() {
    unlockExclusively(descriptor)
    posixClose(descriptor)
  }
}
