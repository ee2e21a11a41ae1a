// Health and metrics on a listener of their own (`stedi serve --health-port`), after issue 15's
// probes: on the ingest port, a health check waits in the same accept queue as every other new
// connection (2,000 connections opened at once put it 100+ ms back) and on event loops that
// share the CPU with dozens of large bodies (500 ms). Here it has its own listen socket and one
// thread of its own, which sleeps until a check arrives, so the kernel runs it as soon as one
// does, whatever the ingest port is going through. The same design as Envoy's admin listener or
// Spring Boot's management port; the ingest port keeps answering `/healthz` too.

import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// `GET /healthz` and `GET /metrics` on their own port and thread, apart from the ingest traffic.
public enum HealthListener {
  /// Limits for the health port: checkers open a connection, ask, and go; anything slower is cut.
  public static let limits = ConnectionLimits(
    maxConnections: 256, headerTimeout: .seconds(5), idleTimeout: .seconds(30), bodyTimeout: .seconds(5))

  /// The health application for `service` on `host:port`, on `thread` (a group of one thread the
  /// caller shuts down when the service stops); `onRunning` gets the bound port.
  public static func application(
    service: IngestService, host: String, port: Int, thread: MultiThreadedEventLoopGroup, logger: Logger,
    onRunning: @escaping @Sendable (Int) -> Void
  ) -> some ApplicationProtocol {
    let connections = ConnectionGuard(
      limits: limits, health: { IngestService.health(service.ingestor) },
      retryAfterSeconds: service.configuration.retryAfterSeconds, logger: logger)
    let router = Router()
    router.get("/metrics") { _, _ in service.metricsResponse() }
    return Application(
      router: router,
      server: connections.http1Server(),
      configuration: .init(address: .hostname(host, port: port), serverName: "stedi-health", backlog: 256),
      onServerRunning: { channel in onRunning(channel.localAddress?.port ?? 0) },
      // One thread, never shared with the ingest port's event loops.
      eventLoopGroupProvider: .shared(thread),
      logger: logger)
  }
}
