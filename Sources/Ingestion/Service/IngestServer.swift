// What `stedi serve` runs, as a library: the command parses options and calls this, so the
// assembly (the key, the erasure and revocation lists read before the log is replayed, the
// connection cap within the descriptor limit, the health listener, the reload loops and the
// clean shutdown) is one place that tests can start in-process.

import Foundation
import Hummingbird
import IngestAPI
import LakeStorage
import Lakehouse
import Logging
import NIOPosix

/// The ingest service's settings, as `stedi serve` takes them.
public struct IngestServerSettings: Sendable {
  /// The address to listen on.
  public var host: String
  /// The ingest port (0 picks a free one).
  public var port: Int
  /// A port of its own for `/healthz` and `/metrics` (nil: none).
  public var healthPort: Int?
  /// The write-ahead log's folder, on a local disk.
  public var logFolder: String
  /// Batch and memory limits.
  public var limits: BatchLimits
  /// Whether landing files go under `date=YYYY-MM-DD/` folders.
  public var dateFolders: Bool
  /// The routes' settings (body limit, phone page).
  public var service: IngestServiceConfiguration
  /// The connection limits; the cap is lowered to fit the descriptor limit.
  public var connections: ConnectionLimits
  /// How often the erasure and revocation lists are reloaded.
  public var listRefreshInterval: Duration

  /// Settings; `logFolder` is required, the rest have `stedi serve`'s defaults.
  public init(
    host: String = "127.0.0.1", port: Int = 8080, healthPort: Int? = nil, logFolder: String,
    limits: BatchLimits = BatchLimits(), dateFolders: Bool = false,
    service: IngestServiceConfiguration = IngestServiceConfiguration(),
    connections: ConnectionLimits = ConnectionLimits(), listRefreshInterval: Duration = .seconds(1)
  ) {
    self.host = host
    self.port = port
    self.healthPort = healthPort
    self.logFolder = logFolder
    self.limits = limits
    self.dateFolders = dateFolders
    self.service = service
    self.connections = connections
    self.listRefreshInterval = listRefreshInterval
  }
}

/// The HTTP ingest service over a lake, opened and ready to run.
public struct IngestServer: Sendable {
  private let storage: any LakeStorage
  private let settings: IngestServerSettings
  private let ingestor: Ingestor
  private let erasures: ErasureGuard
  private let revocations: TokenRevocations
  private let service: IngestService
  private let connections: ConnectionGuard
  private let logger: Logger

  /// Opens the service on `storage`: raises the descriptor limit, reads the token key and the
  /// erasure and revocation lists, and replays the write-ahead log. Throws what stops a start.
  public static func open(
    storage: any LakeStorage, settings: IngestServerSettings, logger: Logger
  ) async throws -> IngestServer {
    // Before anything is opened: every connection is a descriptor, and running out of them
    // (EMFILE) also stops the erasure-list reloads and the landing writes.
    let descriptors = FileDescriptorLimit.raiseToHardLimit()
    let key = try await TokenKey.load(storage: storage)
    let metrics = IngestMetrics()
    // Read before the log is replayed, so that replayed records of erased customers never land;
    // a list that cannot be read stops the start rather than be taken for an empty one.
    let erasures = ErasureGuard()
    _ = try await erasures.refresh(storage: storage)
    let revocations = TokenRevocations()
    _ = try await revocations.refresh(storage: storage)
    let (ingestor, recovery) = try await Ingestor.open(
      storage: storage, logDirectory: settings.logFolder, limits: settings.limits, dateFolders: settings.dateFolders,
      metrics: metrics, erasures: erasures, logger: logger)
    if recovery.recordsRead > 0 || !recovery.damage.isEmpty {
      logger.info(
        "replayed the write-ahead log",
        metadata: [
          "records": "\(recovery.recordsRead)", "sealed_batches_relanded": "\(recovery.sealedBatchesRelanded)",
          "unsealed_records": "\(recovery.unsealedRecordsReplayed)", "damage": "\(recovery.damage.count)",
        ])
    }
    // Descriptors beyond the connections: the log, landing writes, erasure reloads, the lake's files.
    var limits = settings.connections
    let cap = max(1, min(limits.maxConnections, descriptors - 256))
    if cap < limits.maxConnections {
      logger.warning(
        "fewer connections than asked: the descriptor limit leaves room for these",
        metadata: ["max_connections": "\(cap)", "descriptor_limit": "\(descriptors)"])
      limits.maxConnections = cap
    }
    let connections = ConnectionGuard(
      limits: limits, health: { IngestService.health(ingestor) },
      retryAfterSeconds: settings.service.retryAfterSeconds, logger: logger)
    var configuration = settings.service
    configuration.connections = connections
    let service = IngestService(
      ingestor: ingestor, key: key, metrics: metrics, configuration: configuration, revocations: revocations,
      logger: logger)
    return IngestServer(
      storage: storage, settings: settings, ingestor: ingestor, erasures: erasures, revocations: revocations,
      service: service, connections: connections, logger: logger)
  }

  /// Serves until SIGINT or SIGTERM, then lands every acknowledged record; `announce` gets
  /// `listening on http://HOST:PORT` (and `health on ...`) once each listener is bound.
  public func run(announce: @escaping @Sendable (String) -> Void) async throws {
    let (ingestor, erasures, revocations, storage, logger) = (
      self.ingestor, self.erasures, self.revocations, self.storage, self.logger
    )
    let host = settings.host
    let healthThread = settings.healthPort.map { _ in MultiThreadedEventLoopGroup(numberOfThreads: 1) }
    let health = settings.healthPort.map { healthPort in
      HealthListener.application(
        service: service, host: host, port: healthPort, thread: healthThread!, logger: logger,
        onRunning: { bound in announce("health on http://\(host):\(bound)") })
    }
    let app = Application(
      router: service.router(),
      server: connections.http1Server(),
      // A longer listen queue than Hummingbird's 256: bursts of connections wait in the kernel
      // rather than being refused before the guard sees them.
      configuration: .init(address: .hostname(host, port: settings.port), serverName: "stedi", backlog: 4096),
      services: health.map { [$0] } ?? [],
      onServerRunning: { channel in announce("listening on http://\(host):\(channel.localAddress?.port ?? 0)") },
      logger: logger)
    let interval = settings.listRefreshInterval
    let sealer = Task { await ingestor.sealAgedUntilCancelled() }
    let refresher = Task { await erasures.refreshUntilCancelled(storage: storage, every: interval, logger: logger) }
    let revocationRefresher = Task {
      await revocations.refreshUntilCancelled(storage: storage, every: interval, logger: logger)
    }
    defer {
      // The health listener's thread outlives its application: stop it with the service.
      healthThread?.shutdownGracefully { _ in }
    }
    try await app.runService()
    sealer.cancel()
    refresher.cancel()
    revocationRefresher.cancel()
    await ingestor.shutdown()
    logger.info("stopped; every acknowledged record is in landing, less those of customers erased meanwhile")
  }
}
