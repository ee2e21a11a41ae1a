import Foundation
import StediTestSupport
import Synchronization
import Testing

/// `stedi serve` under the issue's hostile probes (idle connections beyond the cap, slow heads,
/// bodies without their last byte, many large bodies at once), as a real process on loopback:
/// `/healthz` keeps answering on fresh connections, an authorised client still gets 202, the
/// timeouts close what they must, and resident memory stays within the memory budget's bound.
@Suite(.serialized) struct ServeLimitsTests {
  /// A `stedi serve` whose stderr goes to a file: under a flood of rejections it logs one line
  /// per request, and a pipe nobody reads would stop it.
  struct Serve {
    let process: Process
    let port: Int
    /// The `--health-port` listener's port, when one was asked for.
    let healthPort: Int?
    let log: String

    static func start(_ arguments: [String], log: String) async throws -> Serve {
      _ = FileManager.default.createFile(atPath: log, contents: nil)
      let process = Process()
      process.executableURL = StediProcess.executable
      process.arguments = ["serve", "--port", "0"] + arguments
      let output = Pipe()
      process.standardOutput = output
      process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
      process.standardInput = FileHandle.nullDevice
      try process.run()
      let reader = output.fileHandleForReading
      // "listening on" and, with --health-port, "health on", in either order.
      var ports: [String: Int] = [:]
      let expected = arguments.contains("--health-port") ? 2 : 1
      while ports.count < expected {
        let line = await firstLine(of: reader)
        let kind = ["listening on ", "health on "].first { line?.hasPrefix($0) == true }
        guard let line, let kind, let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
          process.terminate()
          throw ServeFailure(message: "stedi serve did not start: \(line ?? "") \(Self.read(log))")
        }
        ports[kind] = port
      }
      return Serve(process: process, port: ports["listening on "]!, healthPort: ports["health on "], log: log)
    }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    var pid: Int32 { process.processIdentifier }

    /// SIGTERM and the exit status.
    func stop() async -> Int32 {
      process.terminate()
      let process = self.process
      return await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
          process.waitUntilExit()
          continuation.resume(returning: process.terminationStatus)
        }
      }
    }

    /// A counter or gauge from /metrics (0 when absent).
    func metric(_ name: String) async -> Int {
      let port = self.port
      let text = await RawHTTP.onThreads(1) { _ in RawHTTP.exchange(port: port, path: "/metrics").body }[0]
      guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") }) else { return 0 }
      return Int(Double(line.split(separator: " ").last ?? "0") ?? 0)
    }

    /// GET /healthz on a fresh connection, `count` times `every` apart, from a thread of its own.
    func probeHealth(count: Int = 10, every: Duration = .milliseconds(200)) async -> [(
      status: Int?, body: String, elapsed: Duration
    )] {
      let port = self.port
      return await RawHTTP.onThreads(1) { _ in
        (0..<count).map { _ in
          let answer = RawHTTP.exchange(port: port, path: "/healthz", timeout: 30)
          Thread.sleep(forTimeInterval: Double(every.components.attoseconds) / 1e18 + Double(every.components.seconds))
          return answer
        }
      }[0]
    }

    /// A small authorised POST of step-trainer readings on a fresh connection: its status.
    func postReadings(token: String, from start: Int, count: Int) async -> Int? {
      let port = self.port
      let body = Array(ServeLimitsTests.readings(from: start, count: count).utf8)
      return await RawHTTP.onThreads(1) { _ in
        RawHTTP.exchange(port: port, method: "POST", path: "/v1/step-trainer/readings", token: token, body: body).status
      }[0]
    }
  }

  static let serial = "S-1"

  static func readings(from start: Int, count: Int) -> String {
    (start..<start + count).map {
      #"{"sensorReadingTime":\#(1_700_000_000_000 + $0),"serialNumber":"\#(serial)","distanceFromObject":\#(100 + $0 % 200)}"#
    }.joined(separator: "\n") + "\n"
  }

  /// A fresh lake with a device token, and a service on it with `arguments`; stopped afterwards.
  private func withServe(
    _ arguments: [String], _ body: (Serve, String) async throws -> Void, function: String = #function
  ) async throws {
    raiseOwnDescriptorLimit()
    let scratch = try TemporaryFolder(function)
    defer { scratch.remove() }
    let lake = "\(scratch.path)/lake"
    let issued = try StediProcess.run(["token", "issue", "--lake", lake, "--device", Self.serial])
    #expect(issued.status == 0, "\(issued.stderr)")
    let token = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let serve = try await Serve.start(
      ["--lake", lake, "--batch-max-age", "1"] + arguments, log: "\(scratch.path)/serve.log")
    do {
      try await body(serve, token)
    } catch {
      _ = await serve.stop()
      throw error
    }
    let status = await serve.stop()
    #expect(status == 0, "\(Serve.read(serve.log).suffix(2000))")
  }

  /// Checks a health probe: every answer 200, each within `bound`, prints the slowest. The bound
  /// only tells "answered" from "stuck behind the hostile clients" (before the limits it never
  /// answered): a debug build on a busy CI machine was seen at 1.1 s, so it is generous; the
  /// latency figures are the release-build probe's (`Benchmarks/hostile`, README).
  private func expectHealthy(
    _ answers: [(status: Int?, body: String, elapsed: Duration)], _ probe: String, bound: Duration = .seconds(10)
  ) {
    for answer in answers {
      #expect(answer.status == 200, "\(probe): /healthz answered \(answer.status.map(String.init) ?? "nothing")")
      #expect(answer.elapsed < bound, "\(probe): /healthz took \(answer.elapsed)")
    }
    let slowest = answers.map(\.elapsed).max() ?? .zero
    print("\(probe): /healthz slowest of \(answers.count): \(slowest)")
  }

  /// More idle connections than the cap: the newest always gets in (the oldest idle one makes
  /// room), and the header timeout closes every idle one.
  @Test func idleConnectionsBeyondTheCapNeitherLockOutClientsNorStay() async throws {
    try await withServe(["--max-connections", "400", "--header-timeout", "3"]) { serve, token in
      let port = serve.port
      let held = await RawHTTP.onThreads(4) { part in (0..<300).compactMap { _ in RawHTTP.connect(port: port) } }
        .flatMap { $0 }
      defer { for fd in held { close(fd) } }
      #expect(held.count == 1200)
      let health = await serve.probeHealth()
      expectHealthy(health, "1,200 idle connections, cap 400")
      #expect(await serve.postReadings(token: token, from: 0, count: 10) == 202)
      #expect(await serve.metric(#"stedi_ingest_connections_closed_total{reason="evicted"}"#) >= 800)
      #expect(await serve.metric("stedi_ingest_connections_open") <= 400)
      // The header timeout closes the rest; generous: 3 s plus a busy machine.
      let deadline = ContinuousClock.now + .seconds(20)
      while ContinuousClock.now < deadline, !held.allSatisfy(RawHTTP.isClosedByPeer) {
        try await Task.sleep(for: .milliseconds(250))
      }
      #expect(held.allSatisfy(RawHTTP.isClosedByPeer), "every idle connection is closed by the server")
      #expect(await serve.metric(#"stedi_ingest_connections_closed_total{reason="header_or_idle_timeout"}"#) >= 1)
    }
  }

  /// Slowloris: heads sent a byte at a time never complete; the header timeout closes them
  /// (not sooner), and meanwhile others are served.
  @Test func slowHeadsAreClosedAtTheHeaderTimeout() async throws {
    try await withServe(["--header-timeout", "2"]) { serve, token in
      let port = serve.port
      // Before the connections open: the server's header deadline starts when each is accepted.
      let started = ContinuousClock.now
      let connections = await RawHTTP.onThreads(4) { part in (0..<100).compactMap { _ in RawHTTP.connect(port: port) } }
        .flatMap { $0 }
      #expect(connections.count == 400)
      defer { for fd in connections { close(fd) } }
      let head = Array("POST /v1/step-trainer/readings HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8)
      // One byte per connection every 200 ms, from a thread, until each is closed or 20 s pass.
      let trickle = Task.detached {
        await RawHTTP.onThreads(1) { _ in
          var open = Set(connections)
          var sent = 0
          var closedAfter: [Duration] = []
          while !open.isEmpty, ContinuousClock.now - started < .seconds(20) {
            for fd in open where !RawHTTP.send(fd, [sent < head.count ? head[sent] : UInt8(ascii: "a")]) {
              open.remove(fd)
              closedAfter.append(ContinuousClock.now - started)
            }
            for fd in open where RawHTTP.isClosedByPeer(fd) {
              open.remove(fd)
              closedAfter.append(ContinuousClock.now - started)
            }
            sent += 1
            Thread.sleep(forTimeInterval: 0.2)
          }
          return (open.count, closedAfter)
        }[0]
      }
      let health = await serve.probeHealth()
      expectHealthy(health, "400 slow heads")
      #expect(await serve.postReadings(token: token, from: 0, count: 10) == 202)
      let (stillOpen, closedAfter) = await trickle.value
      #expect(stillOpen == 0, "every slow head is cut off")
      // Not before the header timeout (the code's bound), and well within 20 s.
      #expect(closedAfter.allSatisfy { $0 >= .milliseconds(1900) }, "\(closedAfter.min() ?? .zero)")
      print("400 slow heads: closed between \(closedAfter.min() ?? .zero) and \(closedAfter.max() ?? .zero)")
      #expect(await serve.metric(#"stedi_ingest_connections_closed_total{reason="header_or_idle_timeout"}"#) >= 400)
    }
  }

  /// Bodies that never send their last byte: only as many as the memory budget allows are read
  /// (the others get 503 at once), small authorised requests still get 202, resident memory
  /// stays bounded, and the body timeout closes them all and gives the budget back.
  @Test func bodiesWithoutTheirLastByteAreBoundedAndTimedOut() async throws {
    let budget = 32 << 20
    try await withServe([
      "--max-buffered-bytes", "\(budget)", "--max-body-bytes", "\(8 << 20)", "--body-timeout", "8",
    ]) { serve, token in
      let port = serve.port
      let baseline = residentMiB(serve.pid)
      let size = 4 << 20
      // 40 x 4 MiB = 160 MiB announced, five times the budget.
      let held = await RawHTTP.onThreads(40) { _ -> Int32? in
        guard let fd = RawHTTP.connect(port: port) else { return nil }
        let head =
          "POST /v1/step-trainer/readings HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
          + "Content-Type: application/x-ndjson\r\nContent-Length: \(size)\r\n\r\n"
        // A 503 may come before the body is sent: the server reads on (and drops) the rest.
        RawHTTP.send(fd, Array(head.utf8) + [UInt8](repeating: UInt8(ascii: " "), count: size - 1))
        return fd
      }.compactMap { $0 }
      defer { for fd in held { close(fd) } }
      #expect(held.count == 40)
      let health = await serve.probeHealth()
      expectHealthy(health, "40 bodies of 4 MiB without their last byte, budget 32 MiB")
      let reserved = health.compactMap { answer in
        (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["reservedBytes"] as? Int
      }
      #expect(reserved.allSatisfy { $0 <= budget }, "\(reserved)")
      #expect(reserved.contains { $0 > 0 }, "the held bodies are counted: \(reserved)")
      #expect(await serve.postReadings(token: token, from: 0, count: 10) == 202)
      let memory = residentMiB(serve.pid)
      print(
        "40 held 4 MiB bodies, budget 32 MiB: RSS \(baseline.now) MiB before, \(memory.now) MiB now, peak \(memory.peak) MiB"
      )
      // The bound the README states: the budget twice over (buffers grow by doubling) and 64 MiB.
      #expect(memory.peak - baseline.now < Double(2 * budget >> 20) + 64, "peak \(memory.peak) MiB")
      let deadline = ContinuousClock.now + .seconds(20)
      while ContinuousClock.now < deadline, !held.allSatisfy(RawHTTP.isClosedByPeer) {
        try await Task.sleep(for: .milliseconds(250))
      }
      #expect(held.allSatisfy(RawHTTP.isClosedByPeer), "the body timeout closes every held body")
      #expect(await serve.metric(#"stedi_ingest_connections_closed_total{reason="body_timeout"}"#) >= 40)
      // Everything given back once the batch of the small request has landed (age limit 1 s).
      var after: Int?
      while ContinuousClock.now < deadline + .seconds(10) {
        let answer = await serve.probeHealth(count: 1, every: .zero)[0]
        after =
          (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["reservedBytes"] as? Int
        if after == 0 { break }
        try await Task.sleep(for: .milliseconds(250))
      }
      #expect(after == 0)
    }
  }

  /// The issue's 48 concurrent large bodies from one valid token (1.25 MiB each here, just
  /// over the 1 MiB that makes a body large; almost four times the budget in all): each gets 202 or 503 with Retry-After, resident memory stays bounded,
  /// and a small request afterwards gets 202.
  @Test func manyConcurrentLargeBodiesStayWithinTheMemoryBound() async throws {
    let budget = 16 << 20
    try await withServe(["--max-buffered-bytes", "\(budget)", "--max-body-bytes", "\(8 << 20)"]) { serve, token in
      let port = serve.port
      let baseline = residentMiB(serve.pid)
      // About 1.25 MiB of real readings per body.
      let body = Array(Self.readings(from: 0, count: 14_000).utf8)
      let health = Task.detached { await serve.probeHealth(count: 15, every: .milliseconds(100)) }
      // The accepted bodies are parsed and logged by a debug build on a busy machine: a minute.
      let statuses = await RawHTTP.onThreads(48) { part in
        RawHTTP.exchange(
          port: port, method: "POST", path: "/v1/step-trainer/readings", token: token, body: body, timeout: 60
        ).status
      }
      // 10 s: unlike the other probes this one is real work (the event loops that answer /healthz
      // also read every byte of these bodies, the workers parse and log the accepted ones), which
      // a debug build on a loaded two-core machine turns into seconds of CPU: measured 1-2.7 s at
      // load 13 and 7 s at load 20. The README gives the release build's figure.
      expectHealthy(await health.value, "48 concurrent 1.25 MiB bodies, budget 16 MiB", bound: .seconds(30))
      #expect(statuses.allSatisfy { $0 == 202 || $0 == 503 }, "\(statuses)")
      #expect(statuses.contains(202), "\(statuses)")
      let memory = residentMiB(serve.pid)
      print(
        "48 concurrent 1.25 MiB bodies, budget 16 MiB: \(statuses.filter { $0 == 202 }.count) x 202, "
          + "RSS \(baseline.now) MiB before, \(memory.now) MiB after, peak \(memory.peak) MiB")
      #expect(memory.peak - baseline.now < Double(2 * budget >> 20) + 64, "peak \(memory.peak) MiB")
      #expect(await serve.postReadings(token: token, from: 100_000, count: 10) == 202)
    }
  }

  /// `count` connections each mid-request (a head and one byte of a 100-byte body), given half a
  /// second to be registered: at `--max-connections count`, every slot is busy.
  private static func occupy(_ count: Int, port: Int, token: String) async -> [Int32] {
    let head =
      "POST /v1/step-trainer/readings HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
      + "Content-Type: application/x-ndjson\r\nContent-Length: 100\r\n\r\n{"
    let busy = (0..<count).compactMap { _ -> Int32? in
      guard let fd = RawHTTP.connect(port: port) else { return nil }
      RawHTTP.send(fd, Array(head.utf8))
      return fd
    }
    #expect(busy.count == count)
    try? await Task.sleep(for: .milliseconds(500))
    return busy
  }

  /// At the cap with every connection busy (mid-request), a new connection is closed at once
  /// rather than left waiting: busy connections are not evicted, the body timeout bounds them.
  @Test func whenEverySlotIsBusyANewConnectionIsClosedAtOnce() async throws {
    try await withServe(["--max-connections", "4", "--body-timeout", "30"]) { serve, token in
      let port = serve.port
      let busy = await Self.occupy(4, port: port, token: token)
      let (closedAtOnce, elapsed) = await RawHTTP.onThreads(1) { _ -> (Bool, Duration) in
        let clock = ContinuousClock()
        let started = clock.now
        guard let fd = RawHTTP.connect(port: port) else { return (true, clock.now - started) }
        defer { close(fd) }
        // Nothing but the end of the stream (or a reset) comes back; the receive timeout is 10 s.
        let received = RawHTTP.readToEnd(fd)
        return (received.isEmpty, clock.now - started)
      }[0]
      #expect(closedAtOnce)
      #expect(elapsed < .seconds(5), "closed at once, not left to time out: \(elapsed)")
      for fd in busy { #expect(!RawHTTP.isClosedByPeer(fd), "the busy connections are kept") }
      for fd in busy { close(fd) }
      try await Task.sleep(for: .milliseconds(500))
      #expect(await serve.metric(#"stedi_ingest_connections_closed_total{reason="refused"}"#) >= 1)
    }
  }

  /// `--health-port`: health and metrics on a listener and thread of their own, answered while
  /// every slot of the ingest port is busy (where a new connection is closed at once); no
  /// ingest endpoint there.
  @Test func theHealthPortAnswersWhileEveryIngestSlotIsBusy() async throws {
    try await withServe(["--max-connections", "4", "--body-timeout", "30", "--health-port", "0"]) { serve, token in
      let port = serve.port
      let healthPort = try #require(serve.healthPort)
      #expect(healthPort != port)
      let busy = await Self.occupy(4, port: port, token: token)
      let answers = await RawHTTP.onThreads(1) { _ in
        let ingest = RawHTTP.connect(port: port).map { fd in
          defer { close(fd) }
          return RawHTTP.readToEnd(fd)
        }
        return (
          ingestClosed: ingest?.isEmpty ?? true,
          health: RawHTTP.exchange(port: healthPort, path: "/healthz", timeout: 30),
          metrics: RawHTTP.exchange(port: healthPort, path: "/metrics", timeout: 30),
          post: RawHTTP.exchange(
            port: healthPort, method: "POST", path: "/v1/step-trainer/readings", token: token,
            body: Array(Self.readings(from: 0, count: 1).utf8), timeout: 30)
        )
      }[0]
      #expect(answers.ingestClosed, "the ingest port is full")
      #expect(answers.health.status == 200)
      #expect(answers.health.body.contains(#""status":"ok""#), "\(answers.health.body)")
      // The ingest port's figures, scraped from the health port.
      #expect(answers.metrics.status == 200)
      #expect(answers.metrics.body.contains("stedi_ingest_connections_open 4"), "\(answers.metrics.body.prefix(3000))")
      #expect(answers.metrics.body.contains(#"stedi_ingest_connections_closed_total{reason="refused"} 1"#))
      #expect(answers.post.status == 404, "no ingest on the health port")
      for fd in busy { close(fd) }
    }
  }

  /// Landing that fails (the landing folder made read-only) turns /healthz to 503 with a
  /// reason; it is 200 again once the folder can be written and the batch has landed.
  @Test func healthIsUnhealthyWhileLandingFails() async throws {
    try await withServe(["--batch-max-age", "0.3"]) { serve, token in
      #expect(await serve.postReadings(token: token, from: 0, count: 5) == 202)
      let lake = serve.process.arguments![serve.process.arguments!.firstIndex(of: "--lake")! + 1]
      let landing = "\(lake)/step_trainer/landing"
      var deadline = ContinuousClock.now + .seconds(20)
      while ContinuousClock.now < deadline, landingLines(lake, "step_trainer").count < 5 {
        try await Task.sleep(for: .milliseconds(100))
      }
      let readOnly = try ReadOnlyFolder(landing)
      defer { readOnly.undo() }
      #expect(await serve.postReadings(token: token, from: 5, count: 5) == 202)
      var answer = await serve.probeHealth(count: 1, every: .zero)[0]
      deadline = ContinuousClock.now + .seconds(20)
      while ContinuousClock.now < deadline, answer.status == 200 {
        try await Task.sleep(for: .milliseconds(100))
        answer = await serve.probeHealth(count: 1, every: .zero)[0]
      }
      #expect(answer.status == 503, "\(answer.body)")
      let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
      #expect(json?["status"] as? String == "unhealthy")
      #expect(json?["reason"] as? String == "landing_failing")
      #expect((json?["error"] as? String)?.isEmpty == false)
      readOnly.undo()
      // Retries back off up to 10 s: generous.
      deadline = ContinuousClock.now + .seconds(40)
      while ContinuousClock.now < deadline, answer.status != 200 {
        try await Task.sleep(for: .milliseconds(200))
        answer = await serve.probeHealth(count: 1, every: .zero)[0]
      }
      #expect(answer.status == 200, "\(answer.body)")
      #expect(landingLines(lake, "step_trainer").count == 10)
    }
  }
}

/// A folder made read-only for the test: by its mode, or for root (whom modes do not stop) by
/// the immutable attribute.
struct ReadOnlyFolder {
  let path: String
  let immutable: Bool

  init(_ path: String) throws {
    self.path = path
    immutable = geteuid() == 0
    if immutable {
      let chattr = try StediProcessRunner.run("/usr/bin/chattr", ["+i", path])
      guard chattr == 0 else {
        throw ServeFailure(message: "chattr +i \(path) failed: root needs it to make a folder read-only")
      }
    } else {
      try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: path)
    }
  }

  func undo() {
    if immutable {
      _ = try? StediProcessRunner.run("/usr/bin/chattr", ["-i", path])
    } else {
      try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }
  }
}

/// Runs a system tool to completion; its exit status.
enum StediProcessRunner {
  static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
  }
}

/// `stedi serve` refuses, in one line and with exit 2, a lake it cannot use, and creates a
/// missing one only when told to.
@Suite struct ServeStartupTests {
  @Test func aMissingLakeIsAnErrorUnlessCreateIsGiven() async throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = "\(scratch.path)/deep/new/lake"
    let refused = try StediProcess.run(["serve", "--lake", lake, "--port", "0"])
    #expect(refused.status == 2)
    #expect(
      refused.stderr == "stedi: error: no lake at \(lake): the folder does not exist (give --create to make one)\n")
    #expect(!FileManager.default.fileExists(atPath: "\(scratch.path)/deep"), "nothing created")
    let created = try await ServeProcess.start(["--lake", lake, "--create"])
    let (status, stderr) = await created.stop()
    #expect(status == 0, "\(stderr)")
    #expect(FileManager.default.fileExists(atPath: "\(lake)/_stedi/token.key"))
  }

  @Test func aReadOnlyLakeIsAOneLineError() async throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = "\(scratch.path)/lake"
    try FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)
    let readOnly = try ReadOnlyFolder(lake)
    defer { readOnly.undo() }
    let refused = try StediProcess.run(["serve", "--lake", lake, "--port", "0"])
    #expect(refused.status == 2)
    #expect(refused.stderr.hasPrefix("stedi: error: the lake folder \(lake) is not writable: "), "\(refused.stderr)")
    #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
    #expect(!refused.stderr.contains("NSCocoaErrorDomain"))
  }

  /// A lake whose folder can be written but whose write-ahead log folder cannot: still one line.
  @Test func anUnwritableLogFolderIsAOneLineError() async throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = "\(scratch.path)/lake"
    let wal = "\(scratch.path)/wal"
    try FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: wal, withIntermediateDirectories: true)
    let readOnly = try ReadOnlyFolder(wal)
    defer { readOnly.undo() }
    let refused = try StediProcess.run(["serve", "--lake", lake, "--wal", "\(wal)/log", "--port", "0"])
    #expect(refused.status == 2)
    #expect(refused.stderr.hasPrefix("stedi: error: cannot start: "), "\(refused.stderr)")
    #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
    #expect(!refused.stderr.contains("NSCocoaErrorDomain"), "\(refused.stderr)")
  }
}
