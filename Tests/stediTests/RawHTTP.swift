import Foundation

/// Plain loopback TCP for the hostile-client probes: connections that send nothing, a head a
/// byte at a time, or a body without its last byte, which no HTTP client library does on purpose.
enum RawHTTP {
  /// A blocking socket connected to 127.0.0.1:`port` (send and receive time out after `timeout`
  /// seconds), or nil if the connection failed.
  static func connect(port: Int, timeout: Int = 10) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var time = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else {
      close(fd)
      return nil
    }
    return fd
  }

  /// Sends every byte; false if the connection was closed or timed out first.
  @discardableResult
  static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
      // MSG_NOSIGNAL: a connection the server closed must not kill the test process with SIGPIPE.
      let sent = bytes.withUnsafeBytes {
        Foundation.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
      }
      guard sent > 0 else { return false }
      offset += sent
    }
    return true
  }

  /// Whether the server has closed `fd` (end of stream or reset), looking without waiting.
  static func isClosedByPeer(_ fd: Int32) -> Bool {
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
      if count == 0 { return true }
      if count < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
      // A response (a 503, say) was waiting: read past it to see whether the end follows.
    }
  }

  /// Reads until the peer closes (or `fd` times out); returns what arrived.
  static func readToEnd(_ fd: Int32) -> [UInt8] {
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = recv(fd, &buffer, buffer.count, 0)
      if count <= 0 { break }
      received += buffer[0..<count]
    }
    return received
  }

  /// The status code of the response at the start of `bytes`.
  static func status(_ bytes: [UInt8]) -> Int? {
    let line = String(decoding: bytes.prefix(64), as: UTF8.self)
    guard line.hasPrefix("HTTP/1.1 ") else { return nil }
    return Int(line.dropFirst(9).prefix(3))
  }

  /// Reads one response (head, then Content-Length bytes of body) from `fd`; nil if none came.
  static func readResponse(_ fd: Int32) -> [UInt8]? {
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    let separator: [UInt8] = [13, 10, 13, 10]
    var expected: Int?
    while expected == nil || received.count < expected! {
      let count = recv(fd, &buffer, buffer.count, 0)
      if count <= 0 { return expected == nil ? nil : received }
      received += buffer[0..<count]
      if expected == nil, let end = received.firstRange(of: separator) {
        let head = String(decoding: received[..<end.lowerBound], as: UTF8.self).lowercased()
        let length =
          head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
          .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        expected = end.upperBound + length
      }
    }
    return received
  }

  /// One request on a fresh connection: the status (nil if none came), the body and how long it
  /// took from connecting to the end of the response.
  static func exchange(
    port: Int, method: String = "GET", path: String, token: String? = nil, body: [UInt8] = [], timeout: Int = 10
  ) -> (status: Int?, body: String, elapsed: Duration) {
    let clock = ContinuousClock()
    let started = clock.now
    guard let fd = connect(port: port, timeout: timeout) else { return (nil, "", clock.now - started) }
    defer { close(fd) }
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if let token { head += "Authorization: Bearer \(token)\r\nContent-Type: application/x-ndjson\r\n" }
    if method == "POST" { head += "Content-Length: \(body.count)\r\n" }
    head += "\r\n"
    guard send(fd, Array(head.utf8) + body) else { return (nil, "", clock.now - started) }
    // Not `Connection: close`: a server that answers early (503) stops reading a closing
    // connection, and the rest of a large body would wait for the body timeout.
    guard let response = readResponse(fd) else { return (nil, "", clock.now - started) }
    let text = String(decoding: response, as: UTF8.self)
    let responseBody = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status(response), responseBody, clock.now - started)
  }

  /// Runs `body(i)` for each i in 0..<count on its own thread (they block on sockets), and
  /// returns the results in order; the test's cooperative threads are not held meanwhile.
  static func onThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) async -> [T] {
    await withCheckedContinuation { continuation in
      let results = ResultsBox<T>(count: count)
      let group = DispatchGroup()
      for index in 0..<count {
        group.enter()
        Thread.detachNewThread {
          results.set(index, body(index))
          group.leave()
        }
      }
      group.notify(queue: .global()) { continuation.resume(returning: results.values()) }
    }
  }
}

private final class ResultsBox<T: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var slots: [T?]
  init(count: Int) { slots = Array(repeating: nil, count: count) }
  func set(_ index: Int, _ value: T) { lock.withLock { slots[index] = value } }
  func values() -> [T] { lock.withLock { slots.map { $0! } } }
}

/// Resident memory of a process, from /proc: now and the peak so far, in MiB.
func residentMiB(_ pid: Int32) -> (now: Double, peak: Double) {
  let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
  func field(_ name: String) -> Double {
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
    return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
  }
  return (field("VmRSS"), field("VmHWM"))
}

/// Raises this process's descriptor soft limit to its hard limit (the probes hold many sockets).
func raiseOwnDescriptorLimit() {
  var limit = rlimit()
  #if os(Linux)
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
  #else
    let resource = RLIMIT_NOFILE
  #endif
  guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
  limit.rlim_cur = limit.rlim_max
  setrlimit(resource, &limit)
}
