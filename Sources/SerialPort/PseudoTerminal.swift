import CLibSerialPort

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The device side of a pseudo-terminal: a stand-in for a USB serial device that the host opens at `slavePath`.
///
/// Used by the simulated Step Trainer and by tests. Bytes pass unchanged in both directions (the slave starts in raw
/// mode). The host may open, close and reopen `slavePath` at will; `close()` is the "unplug": the host's reads end.
public final class PseudoTerminal: Sendable {
  /// The path the host opens, e.g. `/dev/pts/4`.
  public let slavePath: String

  private let master: Int32
  private let gate: CloseGate

  /// Allocates a pseudo-terminal pair and puts its slave in raw mode.
  public init() throws(SerialPortError) {
    let fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)
    guard fd >= 0 else { throw .io(path: "/dev/ptmx", operation: "posix_openpt", errno: errno) }
    do throws(SerialPortError) {
      guard grantpt(fd) == 0 else { throw .io(path: "/dev/ptmx", operation: "grantpt", errno: errno) }
      guard unlockpt(fd) == 0 else { throw .io(path: "/dev/ptmx", operation: "unlockpt", errno: errno) }
      var name = [CChar](repeating: 0, count: 128)
      let failed = ptsname_r(fd, &name, name.count)
      guard failed == 0 else { throw .io(path: "/dev/ptmx", operation: "ptsname_r", errno: failed) }
      let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      // Termios requests on the master act on the slave: raw mode from the start, so nothing the device writes
      // before the host configures the port is echoed back or translated.
      var settings = termios()
      guard tcgetattr(fd, &settings) == 0 else { throw .io(path: path, operation: "tcgetattr", errno: errno) }
      cfmakeraw(&settings)
      guard tcsetattr(fd, TCSANOW, &settings) == 0 else {
        throw .io(path: path, operation: "tcsetattr", errno: errno)
      }
      // Opening and closing the slave once marks it "closed" for the master, which then reports POLLHUP until a host
      // opens it. Without this a fresh pair looks connected, and `isHostConnected` would be wrong until the first
      // host came and went.
      let slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
      guard slave >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
      posixClose(slave)
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
      slavePath = path
      gate = try CloseGate()
    } catch {
      posixClose(fd)
      throw error
    }
    master = fd
  }

  deinit {
    close()
  }

  /// Whether a host currently has the slave open.
  public var isHostConnected: Bool {
    (try? gate.enter { () -> Bool in
      var fd = pollfd(fd: master, events: 0, revents: 0)
      return poll(&fd, 1, 0) >= 0 && Int32(fd.revents) & POLLHUP == 0
    }) ?? false
  }

  /// Waits until a host has the slave open; false on timeout.
  public func waitForHost(timeout: Duration) throws(SerialPortError) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
      if gate.isClosed { throw .closed(path: slavePath) }
      if isHostConnected { return true }
      if ContinuousClock.now >= deadline { return false }
      // The master reports POLLHUP for as long as no host is there, so it cannot be waited on with poll(): nap.
      _ = gate.nap(milliseconds: min(10, pollTimeout(until: deadline)))
    }
  }

  /// Reads what the host sent, up to `maxCount` bytes; waits up to `timeout` for something and returns [] if nothing
  /// came. While no host is connected it keeps waiting (a host may open the port in the meantime).
  public func read(maxCount: Int = 64 * 1024, timeout: Duration) throws(SerialPortError) -> [UInt8] {
    let deadline = ContinuousClock.now + timeout
    let result = try gate.enter { () throws(SerialPortError) -> [UInt8] in
      var buffer = [UInt8](repeating: 0, count: max(1, maxCount))
      var fds = [
        pollfd(fd: master, events: Int16(POLLIN), revents: 0),
        pollfd(fd: gate.wakeDescriptor, events: Int16(POLLIN), revents: 0),
      ]
      while true {
        fds[0].revents = 0
        fds[1].revents = 0
        let ready = poll(&fds, 2, pollTimeout(until: deadline))
        if ready < 0 {
          if errno == EINTR { continue }
          throw .io(path: slavePath, operation: "poll", errno: errno)
        }
        if fds[1].revents != 0 { throw .closed(path: slavePath) }
        if ready > 0 {
          let count = buffer.withUnsafeMutableBytes { posixRead(master, $0.baseAddress, $0.count) }
          if count > 0 { return Array(buffer[..<count]) }
          let code = errno
          // EIO: no host has the slave open (POLLHUP without data). Not an error for a device: nap and retry.
          if count < 0 && code != EIO && code != EAGAIN && code != EINTR {
            throw .io(path: slavePath, operation: "read", errno: code)
          }
          if count < 0 && code == EIO {
            _ = gate.nap(milliseconds: min(10, pollTimeout(until: deadline)))
          }
        }
        if ContinuousClock.now >= deadline { return [] }
      }
    }
    guard let result else { throw .closed(path: slavePath) }
    return result
  }

  /// Writes all of `bytes` towards the host, waiting up to `timeout` while the host is not reading.
  ///
  /// Bytes written while no host is connected wait in the slave's input queue and reach the next host that opens it.
  public func write(_ bytes: [UInt8], timeout: Duration = .seconds(5)) throws(SerialPortError) {
    let deadline = ContinuousClock.now + timeout
    let result = try gate.enter { () throws(SerialPortError) -> Bool in
      var offset = 0
      while offset < bytes.count {
        let count = bytes.withUnsafeBytes { posixWrite(master, $0.baseAddress! + offset, $0.count - offset) }
        if count >= 0 {
          offset += count
          continue
        }
        let code = errno
        guard code == EAGAIN || code == EINTR else {
          throw .io(path: slavePath, operation: "write", errno: code)
        }
        var fds = [
          pollfd(fd: master, events: Int16(POLLOUT), revents: 0),
          pollfd(fd: gate.wakeDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        if ContinuousClock.now >= deadline { throw .timedOut(path: slavePath, operation: "pseudo-terminal write") }
        let ready = poll(&fds, 2, pollTimeout(until: deadline))
        if ready > 0 && fds[1].revents != 0 { throw .closed(path: slavePath) }
        if ready > 0 && Int32(fds[0].revents) & POLLOUT == 0 {
          // POLLHUP without POLLOUT (no host): poll would return at once again, so nap instead of spinning.
          _ = gate.nap(milliseconds: min(10, pollTimeout(until: deadline)))
        }
      }
      return true
    }
    if result == nil { throw .closed(path: slavePath) }
  }

  /// Closes the master: the "unplug". The host's reads end and its writes fail.
  public func close() {
    gate.close { posixClose(master) }
  }
}
