// Connection limits for the ingest service, after the slowloris and idle-flood findings of
// issue 15: a client that opens connections and sends nothing, sends its head a byte at a time,
// or withholds the last byte of a body must not hold a connection (and its descriptor) for ever,
// and however many such connections there are, a new client must still get in.
//
// Every connection is in one of two phases: waiting for a request head (new, or kept alive
// between requests) or busy (reading a request or answering it). Deadlines: a new connection
// has `headerTimeout` to deliver its first head, a kept-alive one `idleTimeout` for its next,
// and a request has `bodyTimeout` from its head to its last body byte; past one, the connection
// is closed. The answer itself has no deadline: that is the service's own work.
//
// At `maxConnections`, a new connection closes the oldest connection still waiting for a head
// (idle or slow: nothing is lost, no request has started on it) and takes its place; if every
// connection is busy, the new one is closed at once. Connections are always accepted, so the
// listen queue never fills behind hostile clients, and a prompt client (a health check, a phone)
// gets a slot whatever the others do.
//
// GET /healthz is answered here, on the connection's event loop, from the state the service
// publishes (`health`): the worker threads may all be busy with large bodies, and a health
// check that waits behind them would report a live service as dead.
//
// A request answered before its body is all in (a 413 or 503 on its Content-Length) has the
// rest of its body dropped here as it arrives, not handed to the workers to drain.
//
// The per-connection state lives on the connection's event loop; the shared registry is touched
// (one lock) when a connection opens and closes, and each connection's phase is one relaxed
// atomic store per request: nothing per byte.

import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Limits on the connections of the ingest service.
public struct ConnectionLimits: Sendable, Equatable {
  /// Connections open at once (default 10,000); see `ConnectionGuard` for what happens beyond.
  public var maxConnections: Int
  /// Time a new connection has to send its first request head (default 10 s).
  public var headerTimeout: Duration
  /// Time a kept-alive connection may wait for its next request head (default 75 s).
  public var idleTimeout: Duration
  /// Time from a request's head to the last byte of its body (default 60 s).
  public var bodyTimeout: Duration

  /// Limits; the defaults are documented on each property.
  public init(
    maxConnections: Int = 10_000, headerTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(75),
    bodyTimeout: Duration = .seconds(60)
  ) {
    self.maxConnections = maxConnections
    self.headerTimeout = headerTimeout
    self.idleTimeout = idleTimeout
    self.bodyTimeout = bodyTimeout
  }
}

/// Counts of what the connection limits did, for `/metrics` and tests.
public struct ConnectionCounts: Sendable, Equatable {
  /// Connections open now.
  public var open: Int
  /// Connections accepted since the start.
  public var accepted: Int
  /// Waiting connections closed to make room for a new one.
  public var evicted: Int
  /// New connections closed at once because every slot was busy.
  public var refused: Int
  /// Connections closed by the header or idle timeout.
  public var headerOrIdleTimeouts: Int
  /// Connections closed by the body timeout.
  public var bodyTimeouts: Int
}

/// The ingest service's connection limits: timeouts and a cap, shared by every connection.
public final class ConnectionGuard: Sendable {
  /// The limits in force.
  public let limits: ConnectionLimits
  /// `GET /healthz`'s status and JSON body, answered on the event loop (nil: left to the router).
  let health: (@Sendable () -> (status: Int, body: String))?
  /// Retry-After on an unhealthy `/healthz`.
  let retryAfterSeconds: Int
  private let logger: Logger
  private let registry: Mutex<Registry>
  private let headerOrIdleTimeouts = Atomic<Int>(0)
  private let bodyTimeouts = Atomic<Int>(0)

  private struct Registry {
    var nextID: UInt64 = 0
    var open: [UInt64: Entry] = [:]
    /// Connection ids in the order they opened (closed ones are skipped lazily): eviction takes
    /// the oldest waiting one without scanning a dictionary.
    var order: [UInt64] = []
    var orderStart = 0
    var accepted = 0
    var evicted = 0
    var refused = 0
  }

  private struct Entry {
    let channel: any Channel
    let phase: ConnectionPhase
  }

  /// A guard enforcing `limits`, answering `GET /healthz` itself with `health` when given.
  public init(
    limits: ConnectionLimits = ConnectionLimits(), health: (@Sendable () -> (status: Int, body: String))? = nil,
    retryAfterSeconds: Int = 1, logger: Logger = Logger(label: "stedi.ingest")
  ) {
    self.limits = limits
    self.health = health
    self.retryAfterSeconds = retryAfterSeconds
    self.logger = logger
    self.registry = Mutex(Registry())
  }

  /// What the guard has done so far.
  public var counts: ConnectionCounts {
    registry.withLock { registry in
      ConnectionCounts(
        open: registry.open.count, accepted: registry.accepted, evicted: registry.evicted,
        refused: registry.refused, headerOrIdleTimeouts: headerOrIdleTimeouts.load(ordering: .relaxed),
        bodyTimeouts: bodyTimeouts.load(ordering: .relaxed))
    }
  }

  /// The HTTP/1 server for `Application(server:)`: Hummingbird's, with these limits applied.
  public func http1Server() -> HTTPServerBuilder {
    HTTPServerBuilder { responder in
      GuardedHTTP1Channel(inner: HTTP1Channel(responder: responder), connectionGuard: self)
    }
  }

  /// Registers `channel`; nil if it must be closed at once (every slot busy).
  fileprivate func admit(_ channel: any Channel) -> (UInt64, ConnectionPhase)? {
    let phase = ConnectionPhase()
    var victim: (any Channel)?
    let id: UInt64? = registry.withLock { registry in
      if registry.open.count >= limits.maxConnections {
        guard let oldest = Self.oldestWaiting(&registry) else {
          registry.refused += 1
          return nil
        }
        victim = registry.open.removeValue(forKey: oldest)?.channel
        registry.evicted += 1
      }
      registry.nextID += 1
      registry.accepted += 1
      registry.open[registry.nextID] = Entry(channel: channel, phase: phase)
      registry.order.append(registry.nextID)
      return registry.nextID
    }
    victim?.close(promise: nil)
    return id.map { ($0, phase) }
  }

  fileprivate func closed(_ id: UInt64) {
    registry.withLock { registry in
      _ = registry.open.removeValue(forKey: id)
      // Keep the order list from growing without bound: drop closed ids from its front.
      while registry.orderStart < registry.order.count, registry.open[registry.order[registry.orderStart]] == nil {
        registry.orderStart += 1
      }
      if registry.orderStart > 1024, registry.orderStart * 2 > registry.order.count {
        registry.order.removeFirst(registry.orderStart)
        registry.orderStart = 0
      }
      // A long-lived connection at the front keeps closed ids behind it: sweep them now and
      // then (amortised: at most once per as many closes as there are open connections).
      if registry.order.count - registry.orderStart > 2 * registry.open.count + 1024 {
        let open = registry.open
        registry.order = registry.order[registry.orderStart...].filter { open[$0] != nil }
        registry.orderStart = 0
      }
    }
  }

  fileprivate func timedOut(body: Bool) {
    if body {
      bodyTimeouts.add(1, ordering: .relaxed)
    } else {
      headerOrIdleTimeouts.add(1, ordering: .relaxed)
    }
  }

  private static func oldestWaiting(_ registry: inout Registry) -> UInt64? {
    var index = registry.orderStart
    while index < registry.order.count {
      let id = registry.order[index]
      if let entry = registry.open[id], entry.phase.isWaiting { return id }
      index += 1
    }
    return nil
  }
}

/// Whether a connection waits for a request head (and may be evicted) or is busy with one.
private final class ConnectionPhase: Sendable {
  private let busy = Atomic<Bool>(false)
  var isWaiting: Bool { !busy.load(ordering: .relaxed) }
  func set(busy value: Bool) { busy.store(value, ordering: .relaxed) }
}

/// Hummingbird's HTTP/1 child channel with a `ConnectionDeadlines` handler behind the HTTP decoder.
private struct GuardedHTTP1Channel: ServerChildChannel {
  typealias Value = HTTP1Channel.Value
  let inner: HTTP1Channel
  let connectionGuard: ConnectionGuard

  func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
    guard let (id, phase) = connectionGuard.admit(channel) else {
      channel.close(promise: nil)
      return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
    }
    let connectionGuard = self.connectionGuard
    channel.closeFuture.whenComplete { _ in connectionGuard.closed(id) }
    return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
      let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
      try channel.pipeline.syncOperations.addHandler(
        ConnectionDeadlines(phase: phase, connectionGuard: connectionGuard),
        position: .after(decoder))
      return value
    }
  }

  func handle(value: Value, logger: Logger) async {
    await inner.handle(value: value, logger: logger)
  }
}

/// One connection's deadlines, on its event loop: header, idle and body timeouts.
private final class ConnectionDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart
  typealias OutboundIn = HTTPServerResponsePart
  typealias OutboundOut = HTTPServerResponsePart

  private let limits: ConnectionLimits
  private let phase: ConnectionPhase
  private let connectionGuard: ConnectionGuard
  private var deadline: Scheduled<Void>?
  /// Requests whose head was read and whose response is not written yet.
  private var requestsOpen = 0
  private var readingBody = false
  /// The head of a `GET /healthz` this handler answers itself, until its end arrives.
  private var healthRequest: HTTPRequestHead?

  init(phase: ConnectionPhase, connectionGuard: ConnectionGuard) {
    self.limits = connectionGuard.limits
    self.phase = phase
    self.connectionGuard = connectionGuard
  }

  func handlerAdded(context: ChannelHandlerContext) {
    arm(context, after: limits.headerTimeout, body: false)
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    disarm()
  }

  func channelInactive(context: ChannelHandlerContext) {
    disarm()
    context.fireChannelInactive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let part = unwrapInboundIn(data)
    if let head = healthRequest {
      // The health check's own (empty) body and end: answer it.
      if case .end = part {
        healthRequest = nil
        answerHealth(context, head)
      }
      return
    }
    switch part {
    case .head(let head):
      // Only between requests: a pipelined one must be answered in order, by the router.
      if requestsOpen == 0, connectionGuard.health != nil, head.method == .GET,
        head.uri == "/healthz" || head.uri.hasPrefix("/healthz?")
      {
        healthRequest = head
        phase.set(busy: true)
        arm(context, after: limits.bodyTimeout, body: true)
        return
      }
      requestsOpen += 1
      readingBody = true
      phase.set(busy: true)
      arm(context, after: limits.bodyTimeout, body: true)
    case .body:
      // Answered already (a rejection): the rest of the body is of no use to anyone.
      if requestsOpen == 0 { return }
    case .end:
      readingBody = false
      if requestsOpen == 0 {
        // Answered early (a rejection), and now the body is in: waiting for the next request.
        phase.set(busy: false)
        arm(context, after: limits.idleTimeout, body: false)
      } else {
        // The answer is the service's own work: no deadline until it is written.
        disarm()
      }
    }
    context.fireChannelRead(data)
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    if case .end = unwrapOutboundIn(data) {
      requestsOpen = max(0, requestsOpen - 1)
      // Answered before its body was all read (a rejection): the body deadline still runs.
      if requestsOpen == 0, !readingBody {
        phase.set(busy: false)
        arm(context, after: limits.idleTimeout, body: false)
      }
    }
    context.write(data, promise: promise)
  }

  private func answerHealth(_ context: ChannelHandlerContext, _ request: HTTPRequestHead) {
    guard let (status, body) = connectionGuard.health?() else { return }
    var headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", "\(body.utf8.count)")])
    if status == 503 { headers.add(name: "Retry-After", value: "\(connectionGuard.retryAfterSeconds)") }
    let keepAlive = request.isKeepAlive
    if !keepAlive { headers.add(name: "Connection", value: "close") }
    let head = HTTPResponseHead(
      version: request.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
    context.write(wrapOutboundOut(.head(head)), promise: nil)
    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
    if keepAlive {
      context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
      phase.set(busy: false)
      arm(context, after: limits.idleTimeout, body: false)
    } else {
      let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
      context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }
  }

  private func arm(_ context: ChannelHandlerContext, after delay: Duration, body: Bool) {
    disarm()
    let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
    let connectionGuard = self.connectionGuard
    deadline = context.eventLoop.scheduleTask(in: TimeAmount(delay)) {
      connectionGuard.timedOut(body: body)
      loopBound.value.close(promise: nil)
    }
  }

  private func disarm() {
    deadline?.cancel()
    deadline = nil
  }
}
