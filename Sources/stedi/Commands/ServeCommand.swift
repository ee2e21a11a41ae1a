import ArgumentParser
import Foundation
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

  @Option(help: "The port (0 picks a free one; a line \"listening on http://HOST:PORT\" on stdout says which).")
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

  @OptionGroup var limits: ServeLimitOptions

  @Flag(help: "Put landing files under date=YYYY-MM-DD/ folders.")
  var dateFolders = false

  @Option(help: "The phone capture page's folder (default: simulators/phone beside the package).")
  var phonePage: String?

  @Flag(help: "Create the lake folder (and its parents) if it does not exist.")
  var create = false

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
    if let healthPort, !(0...65535).contains(healthPort) || (healthPort == port && port != 0) {
      throw ValidationError("--health-port must be 0-65535 and differ from --port")
    }
  }

  func run() async throws {
    var logger = Logger(label: "stedi.serve")
    logger.logLevel = .info
    if !storageOptions.isS3 {
      do throws(LakeFolder.Problem) {
        try LakeFolder.prepare(storageOptions.lake, create: create)
      } catch {
        throw CommandFailure.report("\(error)")
      }
    }
    guard let logFolder = wal ?? (storageOptions.isS3 ? nil : "\(storageOptions.lake)/_stedi/ingest-wal") else {
      throw ValidationError("an S3 lake needs --wal DIR: the write-ahead log must be on a local disk")
    }
    let settings = IngestServerSettings(
      host: host, port: port, healthPort: healthPort, logFolder: logFolder, limits: limits.batchLimits,
      dateFolders: dateFolders,
      service: IngestServiceConfiguration(
        maxBodyBytes: limits.maxBodyBytes, phonePageFolder: phonePage ?? PhonePageFolder.locate()),
      connections: limits.connectionLimits, listRefreshInterval: limits.listRefreshInterval)
    var storage = try storageOptions.storage()
    if var folder = storage as? FileSystemStorage {
      // The service never reads its landing files back (see `dropsWrittenFilesFromCache`).
      folder.dropsWrittenFilesFromCache = true
      storage = folder
    }
    let server = try await CommandFailure.reportingStartFailures {
      try await IngestServer.open(storage: storage, settings: settings, logger: logger)
    }
    // Written straight to the file descriptor: tests and scripts wait for these lines.
    try await server.run { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
  }
}
