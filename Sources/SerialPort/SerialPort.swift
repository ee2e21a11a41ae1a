import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An open serial port: received bytes as an async stream, blocking writes with a timeout.
///
/// Opening starts a receive thread at once; bytes that arrive before anyone iterates `received` are buffered.
/// When the device goes away `received` ends by throwing `SerialPortError.disconnected`; after `close()` it just ends.
/// Reconnecting is the caller's job: close this port and open a new `SerialPort` on the same path once it is back.
public final class SerialPort: Sendable {
  /// The path the port was opened with.
  public let path: String
  /// The configuration applied at open.
  public let configuration: SerialConfiguration
  /// The implementation driving the port.
  public let backend: SerialBackendKind
  /// Received bytes in arrival order, in chunks as the OS delivers them. Single consumer; cancelling the iterating
  /// task closes the port.
  public let received: AsyncThrowingStream<[UInt8], any Error>

  private let connection: Connection

  /// Opens and configures the port at `path` (8N1); `backend` nil means `SerialBackendKind.select(forPath:)`.
  public init(
    path: String, configuration: SerialConfiguration = SerialConfiguration(), backend: SerialBackendKind? = nil
  ) throws(SerialPortError) {
    let kind = try SerialBackendKind.select(forPath: path, requested: backend)
    // Checked up front so both backends report a missing device the same way (libserialport would say
    // "does not recognise it").
    guard access(path, F_OK) == 0 else { throw openError(path: path, errno: errno) }
    let driver: any SerialBackend =
      switch kind {
      case .libserialport: try LibSerialPortBackend(path: path, configuration: configuration)
      case .termios: try TermiosBackend(path: path, configuration: configuration)
      }
    let gate: CloseGate
    do {
      gate = try CloseGate()
    } catch {
      driver.close()
      throw error
    }
    let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
    let connection = Connection(path: path, backend: driver, gate: gate, continuation: continuation)
    continuation.onTermination = { [connection] reason in
      // Only a consumer that stopped listening closes here; a stream we finished ourselves leaves the port to
      // `close()` (a disconnected port still needs closing, and this may run on the receive thread).
      if case .cancelled = reason { connection.close() }
    }
    do {
      try startDetachedThread(name: "serial-rx") { [connection] in connection.receiveLoop() }
    } catch {
      connection.close()
      throw error
    }
    self.path = path
    self.configuration = configuration
    self.backend = kind
    self.received = stream
    self.connection = connection
  }

  deinit {
    connection.close()
  }

  /// Whether the port is closed: a `close()` (yours, or the one cancelling the iteration of `received` triggers) has
  /// finished, so the device is released and its path can be opened again. False while a close is still running on
  /// another thread; a disconnected port stays open until closed.
  public var isClosed: Bool { connection.gate.isReleased }

  /// Sends all of `bytes`, waiting up to `timeout` for the device to accept them.
  public func write(_ bytes: [UInt8], timeout: Duration = .seconds(5)) throws(SerialPortError) {
    try connection.write(bytes, timeout: timeout)
  }

  /// Stops the receive thread, ends `received` and releases the device; returns once the device is released (also
  /// when another thread's close is doing that at the same time).
  public func close() {
    connection.close()
  }
}

/// The state shared by a `SerialPort`, its receive thread and its stream's termination handler.
private final class Connection: Sendable {
  let path: String
  let backend: any SerialBackend
  let gate: CloseGate
  let continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation
  /// Keeps concurrent `write` calls from interleaving their bytes.
  let writeLock = Mutex(())

  init(
    path: String, backend: any SerialBackend, gate: CloseGate,
    continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation
  ) {
    self.path = path
    self.backend = backend
    self.gate = gate
    self.continuation = continuation
  }

  func close() {
    gate.close { backend.close() }
    continuation.finish()
  }

  /// Runs on the receive thread until the port is closed or the device goes away.
  func receiveLoop() {
    do {
      _ = try gate.enter { () throws(SerialPortError) in try receive() }
      continuation.finish()
    } catch {
      continuation.finish(throwing: error)
    }
  }

  private func receive() throws(SerialPortError) {
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    var fds = [
      pollfd(fd: backend.descriptor, events: Int16(POLLIN), revents: 0),
      pollfd(fd: gate.wakeDescriptor, events: Int16(POLLIN), revents: 0),
    ]
    while true {
      fds[0].revents = 0
      fds[1].revents = 0
      // The timeout is only a backstop: closing wakes the poll through the gate's descriptor.
      let ready = poll(&fds, 2, 1000)
      if ready < 0 {
        if errno == EINTR { continue }
        throw .io(path: path, operation: "poll", errno: errno)
      }
      if fds[1].revents != 0 || gate.isClosed { return }
      if ready == 0 { continue }
      let events = Int32(fds[0].revents)
      if events & POLLNVAL != 0 { throw .io(path: path, operation: "poll", errno: EBADF) }
      // Read even on POLLHUP/POLLERR: bytes that arrived before the hang-up are still delivered, and the read
      // result says what happened.
      let result = buffer.withUnsafeMutableBytes { backend.read(into: $0) }
      switch result {
      case .bytes(let count):
        continuation.yield(Array(buffer[..<count]))
      case .endOfFile:
        throw .disconnected(path: path)
      case .wouldBlock:
        if events & (POLLHUP | POLLERR) != 0 { throw .disconnected(path: path) }
      case .failed(let code):
        throw isDisconnectErrno(code) ? .disconnected(path: path) : .io(path: path, operation: "read", errno: code)
      }
    }
  }

  func write(_ bytes: [UInt8], timeout: Duration) throws(SerialPortError) {
    guard !bytes.isEmpty else { return }
    let deadline = ContinuousClock.now + timeout
    let wrote = try writeLock.withLock { (_: inout Void) throws(SerialPortError) -> Bool in
      let entered = try gate.enter { () throws(SerialPortError) -> Bool in
        // withUnsafeBytes only rethrows untyped errors, so the typed error is carried out by hand.
        let failure = bytes.withUnsafeBytes { all -> SerialPortError? in
          do throws(SerialPortError) {
            try writeAll(all, deadline: deadline)
            return nil
          } catch {
            return error
          }
        }
        if let failure { throw failure }
        return true
      }
      return entered != nil
    }
    if !wrote { throw .closed(path: path) }
  }

  /// Hands every byte to the kernel, coping with partial writes and EAGAIN on the non-blocking fd.
  private func writeAll(_ all: UnsafeRawBufferPointer, deadline: ContinuousClock.Instant) throws(SerialPortError) {
    var offset = 0
    while offset < all.count {
      switch backend.write(UnsafeRawBufferPointer(rebasing: all[offset...])) {
      case .wrote(let count):
        offset += count
      case .failed(let code):
        throw isDisconnectErrno(code) ? .disconnected(path: path) : .io(path: path, operation: "write", errno: code)
      case .wouldBlock:
        try waitWritable(deadline: deadline)
      }
    }
  }

  private func waitWritable(deadline: ContinuousClock.Instant) throws(SerialPortError) {
    var fds = [
      pollfd(fd: backend.descriptor, events: Int16(POLLOUT), revents: 0),
      pollfd(fd: gate.wakeDescriptor, events: Int16(POLLIN), revents: 0),
    ]
    while true {
      if ContinuousClock.now >= deadline { throw .timedOut(path: path, operation: "write") }
      let ready = poll(&fds, 2, pollTimeout(until: deadline))
      if ready < 0 {
        if errno == EINTR { continue }
        throw .io(path: path, operation: "poll", errno: errno)
      }
      if fds[1].revents != 0 { throw .closed(path: path) }
      let events = Int32(fds[0].revents)
      if events & (POLLHUP | POLLERR) != 0 { throw .disconnected(path: path) }
      if events & POLLOUT != 0 { return }
    }
  }
}
