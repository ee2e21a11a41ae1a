import ArgumentParser
import Foundation
import Hummingbird
import Ingestion
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
      """)

  @OptionGroup var storageOptions: StorageOptions

  @Option(help: "The address to listen on.")
  var host = "127.0.0.1"

  @Option(help: "The port (0 picks a free one; the first line on stdout says which).")
  var port = 8080

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

  @Option(help: "Bytes waiting in memory before requests get 503 with Retry-After.")
  var maxBufferedBytes = BatchLimits().maxBufferedBytes

  @Option(help: "The largest request body, in bytes; larger ones get 413.")
  var maxBodyBytes = IngestServiceConfiguration().maxBodyBytes

  @Flag(help: "Put landing files under date=YYYY-MM-DD/ folders.")
  var dateFolders = false

  @Option(help: "The phone capture page's folder (default: simulators/phone beside the package).")
  var phonePage: String?

  @Option(
    help: ArgumentHelp(
      "Seconds between reloads of the lake's erasure list.",
      discussion: "How soon records of a customer erased by `stedi lake erase` (another process) are refused."))
  var erasureRefreshSeconds = 1.0

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
    guard batchMaxAge > 0, batchMaxRecords > 0, batchMaxBytes > 0, maxBufferedBytes > 0, maxBodyBytes > 0 else {
      throw ValidationError("batch limits and sizes must be positive")
    }
    guard erasureRefreshSeconds > 0 else { throw ValidationError("--erasure-refresh-seconds must be positive") }
  }

  func run() async throws {
    var logger = Logger(label: "stedi.serve")
    logger.logLevel = .info
    let storage = try storageOptions.storage(create: true)
    guard let logFolder = wal ?? (storageOptions.isS3 ? nil : "\(storageOptions.lake)/_stedi/ingest-wal") else {
      throw ValidationError("an S3 lake needs --wal DIR: the write-ahead log must be on a local disk")
    }
    let key = try await runReportingStorageErrors { try await TokenKey.load(storage: storage) }
    let metrics = IngestMetrics()
    let limits = BatchLimits(
      maxRecords: batchMaxRecords, maxBytes: batchMaxBytes, maxAge: .milliseconds(Int64(batchMaxAge * 1000)),
      maxBufferedBytes: maxBufferedBytes)
    // Read before the log is replayed, so that replayed records of erased customers never land;
    // a list that cannot be read stops the start rather than be taken for an empty one.
    let erasures = ErasureGuard()
    _ = try await runReportingStorageErrors { try await erasures.refresh(storage: storage) }
    let revocations = TokenRevocations()
    _ = try await runReportingStorageErrors { try await revocations.refresh(storage: storage) }
    let (ingestor, recovery) = try await Ingestor.open(
      storage: storage, logDirectory: logFolder, limits: limits, dateFolders: dateFolders, metrics: metrics,
      erasures: erasures, logger: logger)
    if recovery.recordsRead > 0 || !recovery.damage.isEmpty {
      logger.info(
        "replayed the write-ahead log",
        metadata: [
          "records": "\(recovery.recordsRead)", "sealed_batches_relanded": "\(recovery.sealedBatchesRelanded)",
          "unsealed_records": "\(recovery.unsealedRecordsReplayed)", "damage": "\(recovery.damage.count)",
        ])
    }
    let service = IngestService(
      ingestor: ingestor, key: key, metrics: metrics,
      configuration: IngestServiceConfiguration(maxBodyBytes: maxBodyBytes, phonePageFolder: phonePageFolder()),
      revocations: revocations, logger: logger)
    let host = self.host
    let app = Application(
      router: service.router(),
      configuration: .init(address: .hostname(host, port: port), serverName: "stedi"),
      onServerRunning: { channel in
        let bound = channel.localAddress?.port ?? 0
        // Written straight to the file descriptor: tests and scripts wait for this line.
        FileHandle.standardOutput.write(Data("listening on http://\(host):\(bound)\n".utf8))
      },
      logger: logger)
    let sealer = Task { await ingestor.sealAgedUntilCancelled() }
    let refreshInterval = Duration.milliseconds(max(1, Int64(erasureRefreshSeconds * 1000)))
    let refresher = Task {
      await erasures.refreshUntilCancelled(storage: storage, every: refreshInterval, logger: logger)
    }
    let revocationRefresher = Task {
      await revocations.refreshUntilCancelled(storage: storage, every: refreshInterval, logger: logger)
    }
    try await app.runService()
    sealer.cancel()
    refresher.cancel()
    revocationRefresher.cancel()
    await ingestor.shutdown()
    logger.info("stopped; every acknowledged record is in landing, less those of customers erased meanwhile")
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
