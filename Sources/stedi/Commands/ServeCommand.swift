import ArgumentParser
import Foundation
import Hummingbird
import Ingestion
import LakeStorage
import Lakehouse
import Logging

/// `stedi serve`: the HTTP ingest service.
struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Receive readings and customers over HTTP and land them in the lake in batches.",
    discussion: """
      POST /v1/step-trainer/readings, /v1/accelerometer/readings, /v1/customers (a JSON array or \
      NDJSON; Authorization: Bearer <token from `stedi token issue`): 202 once the records are in \
      the write-ahead log. GET /healthz, GET /metrics (Prometheus), GET /phone (the phone capture \
      page). Records land in <source>/landing/ when a batch reaches its record, byte or age limit, \
      and on SIGINT/SIGTERM.

      Records of customers erased with `stedi lake erase` are refused for good: the service reads \
      the lake's erasure list before it starts listening, again every --erasure-refresh-seconds \
      and before writing each landing file, and leaves out of waiting batches the records of \
      customers erased after they were acknowledged. A request with some such records gets \
      202 {"accepted":n,"refused":m}; one with only such records gets 403 (reason "erased"). A \
      list that cannot be read stops the start; while running, the last list read stays in force.

      Limits: a new connection has --header-timeout seconds to send its request head, a kept-alive \
      one --idle-timeout for its next, a request --body-timeout from its head to its last byte; \
      past one the connection is closed. At --max-connections, a new connection closes the oldest \
      one still waiting for a request head, or is closed at once if every connection is busy. \
      Request bodies being received reserve their bytes against --max-buffered-bytes with the \
      records waiting to land: beyond it 503 with Retry-After, beyond --max-body-bytes 413. \
      GET /healthz answers 503 {"status":"unhealthy","reason":...} while records cannot land or \
      the write-ahead log cannot be written, 200 again once they can. Point health checkers and \
      scrapers at --health-port: its own thread and listen queue answer them promptly under any \
      ingest load.

      The lake folder must exist (and be writable) unless --create is given.
      """)

  @OptionGroup var storageOptions: StorageOptions

  @Option(help: "The address to listen on.")
  var host = "127.0.0.1"

  @Option(help: "The port (0 picks a free one; the first line on stdout says which).")
  var port = 8080

  @Option(
    help: ArgumentHelp(
      "A port of its own for GET /healthz and GET /metrics (0 picks a free one).",
      discussion: """
        Served by a thread of its own with its own listen queue, so health checks and scrapes are \
        answered promptly however many connections or large bodies the ingest port is handling; \
        a line "health on http://HOST:PORT" on stdout says which port.
        """))
  var healthPort: Int?

  @Option(
    help: ArgumentHelp(
      "The write-ahead log folder.",
      discussion: "Default <lake>/_stedi/ingest-wal for a folder lake; for an S3 lake a local folder is required."))
  var wal: String?

  @Option(help: "Records per landing file.")
  var batchMaxRecords = BatchLimits().maxRecords

  @Option(help: "Bytes per landing file.")
  var batchMaxBytes = BatchLimits().maxBytes

  @Option(help: "Seconds the first record of a batch may wait before its file is written.")
  var batchMaxAge = 60.0

  @Option(
    help: "Bytes in memory (bodies being received, records waiting to land) before requests get 503 with Retry-After.")
  var maxBufferedBytes = BatchLimits().maxBufferedBytes

  @Option(help: "The largest request body, in bytes; larger ones get 413.")
  var maxBodyBytes = IngestServiceConfiguration().maxBodyBytes

  @Flag(help: "Put landing files under date=YYYY-MM-DD/ folders.")
  var dateFolders = false

  @Option(help: "The phone capture page's folder (default: simulators/phone beside the package).")
  var phonePage: String?

  @Option(help: "Connections open at once (at most the descriptor limit less 256).")
  var maxConnections = ConnectionLimits().maxConnections

  @Option(help: "Seconds a new connection has to send its request head.")
  var headerTimeout = 10.0

  @Option(help: "Seconds a kept-alive connection may wait for its next request.")
  var idleTimeout = 75.0

  @Option(help: "Seconds from a request's head to the last byte of its body.")
  var bodyTimeout = 60.0

  @Flag(help: "Create the lake folder (and its parents) if it does not exist.")
  var create = false

  @Option(
    help: ArgumentHelp(
      "Seconds between reloads of the lake's erasure list.",
      discussion: "How soon records of a customer erased by `stedi lake erase` (another process) are refused."))
  var erasureRefreshSeconds = 1.0

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
    if let healthPort, !(0...65535).contains(healthPort) || (healthPort == port && port != 0) {
      throw ValidationError("--health-port must be 0-65535 and differ from --port")
    }
    guard batchMaxAge > 0, batchMaxRecords > 0, batchMaxBytes > 0, maxBufferedBytes > 0, maxBodyBytes > 0 else {
      throw ValidationError("batch limits and sizes must be positive")
    }
    guard erasureRefreshSeconds > 0 else { throw ValidationError("--erasure-refresh-seconds must be positive") }
    guard maxConnections > 0, headerTimeout > 0, idleTimeout > 0, bodyTimeout > 0 else {
      throw ValidationError("--max-connections and the timeouts must be positive")
    }
  }

  func run() async throws {
    var logger = Logger(label: "stedi.serve")
    logger.logLevel = .info
    // Before anything is opened: every connection is a descriptor, and running out of them
    // (EMFILE) also stops the erasure-list reloads and the landing writes.
    let descriptors = FileDescriptorLimit.raiseToHardLimit()
    let storage = try prepareLake()
    guard let logFolder = wal ?? (storageOptions.isS3 ? nil : "\(storageOptions.lake)/_stedi/ingest-wal") else {
      throw ValidationError("an S3 lake needs --wal DIR: the write-ahead log must be on a local disk")
    }
    let key = try await Self.reportingStartFailures { try await TokenKey.load(storage: storage) }
    let metrics = IngestMetrics()
    let limits = BatchLimits(
      maxRecords: batchMaxRecords, maxBytes: batchMaxBytes, maxAge: .milliseconds(Int64(batchMaxAge * 1000)),
      maxBufferedBytes: maxBufferedBytes)
    // Read before the log is replayed, so that replayed records of erased customers never land;
    // a list that cannot be read stops the start rather than be taken for an empty one.
    let erasures = ErasureGuard()
    _ = try await Self.reportingStartFailures { try await erasures.refresh(storage: storage) }
    let revocations = TokenRevocations()
    _ = try await Self.reportingStartFailures { try await revocations.refresh(storage: storage) }
    let (ingestor, recovery) = try await Self.reportingStartFailures {
      try await Ingestor.open(
        storage: storage, logDirectory: logFolder, limits: limits, dateFolders: dateFolders, metrics: metrics,
        erasures: erasures, logger: logger)
    }
    if recovery.recordsRead > 0 || !recovery.damage.isEmpty {
      logger.info(
        "replayed the write-ahead log",
        metadata: [
          "records": "\(recovery.recordsRead)", "sealed_batches_relanded": "\(recovery.sealedBatchesRelanded)",
          "unsealed_records": "\(recovery.unsealedRecordsReplayed)", "damage": "\(recovery.damage.count)",
        ])
    }
    // Descriptors beyond the connections: the log, landing writes, erasure reloads, the lake's files.
    let connectionCap = max(1, min(maxConnections, descriptors - 256))
    if connectionCap < maxConnections {
      logger.warning(
        "fewer connections than asked: the descriptor limit leaves room for these",
        metadata: ["max_connections": "\(connectionCap)", "descriptor_limit": "\(descriptors)"])
    }
    let connections = ConnectionGuard(
      limits: ConnectionLimits(
        maxConnections: connectionCap, headerTimeout: Self.duration(headerTimeout),
        idleTimeout: Self.duration(idleTimeout), bodyTimeout: Self.duration(bodyTimeout)),
      health: { IngestService.health(ingestor) }, logger: logger)
    let service = IngestService(
      ingestor: ingestor, key: key, metrics: metrics,
      configuration: IngestServiceConfiguration(
        maxBodyBytes: maxBodyBytes, phonePageFolder: phonePageFolder(), connections: connections),
      revocations: revocations, logger: logger)
    let host = self.host
    let healthApplication = healthPort.map { healthPort in
      HealthListener.application(
        service: service, host: host, port: healthPort, logger: logger,
        onRunning: { bound in FileHandle.standardOutput.write(Data("health on http://\(host):\(bound)\n".utf8)) })
    }
    let app = Application(
      router: service.router(),
      server: connections.http1Server(),
      // A longer listen queue than Hummingbird's 256: bursts of connections wait in the kernel
      // rather than being refused before the guard sees them.
      configuration: .init(address: .hostname(host, port: port), serverName: "stedi", backlog: 4096),
      services: healthApplication.map { [$0] } ?? [],
      onServerRunning: { channel in
        let bound = channel.localAddress?.port ?? 0
        // Written straight to the file descriptor: tests and scripts wait for this line.
        FileHandle.standardOutput.write(Data("listening on http://\(host):\(bound)\n".utf8))
      },
      logger: logger)
    let sealer = Task { await ingestor.sealAgedUntilCancelled() }
    let refreshInterval = Duration.milliseconds(max(1, Int64(erasureRefreshSeconds * 1000)))
    let refresher = Task { [logger] in
      await erasures.refreshUntilCancelled(storage: storage, every: refreshInterval, logger: logger)
    }
    let revocationRefresher = Task { [logger] in
      await revocations.refreshUntilCancelled(storage: storage, every: refreshInterval, logger: logger)
    }
    try await app.runService()
    sealer.cancel()
    refresher.cancel()
    revocationRefresher.cancel()
    await ingestor.shutdown()
    logger.info("stopped; every acknowledged record is in landing, less those of customers erased meanwhile")
  }

  private static func duration(_ seconds: Double) -> Duration {
    .milliseconds(max(1, Int64(seconds * 1000)))
  }

  /// The lake's storage, after checking that a folder lake exists (or creating it with
  /// --create) and can be written: a lake that cannot is a one-line error, exit 2.
  private func prepareLake() throws -> any LakeStorage {
    guard !storageOptions.isS3 else { return try storageOptions.storage() }
    let lake = storageOptions.lake
    var isDirectory: ObjCBool = false
    if !FileManager.default.fileExists(atPath: lake, isDirectory: &isDirectory) {
      guard create else {
        try Self.fail("no lake folder at \(lake) (give --create to make one)")
      }
      do {
        try FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)
      } catch {
        try Self.fail("cannot create the lake folder \(lake): \(Self.oneLine(error))")
      }
    } else if !isDirectory.boolValue {
      try Self.fail("the lake \(lake) is not a folder")
    }
    // Root ignores permission bits, so the folder is tried, not its mode read.
    let probe = "\(lake)/.stedi-serve-probe-\(getpid())"
    let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard descriptor >= 0 else {
      try Self.fail("the lake folder \(lake) is not writable: \(String(cString: strerror(errno)))")
    }
    close(descriptor)
    unlink(probe)
    return try storageOptions.storage()
  }

  /// Runs a start-up step, turning any error into one line on stderr and exit 2.
  private static func reportingStartFailures<Result>(_ body: () async throws -> Result) async throws -> Result {
    do {
      return try await runReportingStorageErrors(body)
    } catch let exit as ExitCode {
      throw exit
    } catch {
      try Self.fail("cannot start: \(Self.oneLine(error))")
    }
  }

  private static func fail(_ message: String) throws -> Never {
    FileHandle.standardError.write(Data("stedi: error: \(message)\n".utf8))
    throw ExitCode(2)
  }

  /// An error in one line. Foundation's file errors say what in `localizedDescription` and where
  /// and why in their user info: all three, without the dump of the whole error.
  private static func oneLine(_ error: any Error) -> String {
    var text = "\(error)"
    let nsError = error as NSError
    if error is CocoaError || nsError.domain == NSCocoaErrorDomain {
      text = nsError.localizedDescription
      if let path = nsError.userInfo[NSFilePathErrorKey] as? String { text += " (\(path))" }
      if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        text += ": \(String(cString: strerror(Int32(underlying.code))))"
      }
    }
    return text.split(whereSeparator: \.isNewline).joined(separator: " ")
  }

  /// The phone page folder: the option, else `simulators/phone` found above the executable or
  /// the working folder (where a checkout keeps it).
  private func phonePageFolder() -> String? {
    if let phonePage { return phonePage }
    let starts = [
      URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent(),
      URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
    ]
    for start in starts {
      var folder = start
      while folder.path != "/" {
        let candidate = folder.appendingPathComponent("simulators/phone")
        if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("index.html").path) {
          return candidate.path
        }
        folder.deleteLastPathComponent()
      }
    }
    return nil
  }
}

/// The process's open-file limit.
enum FileDescriptorLimit {
  /// Raises the soft limit to the hard limit where allowed; returns the soft limit in force.
  static func raiseToHardLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 1024 }
    // An unlimited hard limit cannot be the soft one on Linux (nr_open caps it): a million will do.
    let target = limit.rlim_max == rlim_t.max ? 1 << 20 : limit.rlim_max
    if limit.rlim_cur < target {
      var raised = limit
      raised.rlim_cur = target
      if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { limit = raised }
    }
    return Int(clamping: limit.rlim_cur)
  }
}

#if os(Linux)
  private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
  private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
#endif
