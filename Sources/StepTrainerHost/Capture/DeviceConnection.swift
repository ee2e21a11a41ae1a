import SerialPort
import StepTrainerProtocol
import Synchronization

/// Keeps a session with a device: finds its port, opens it, runs a session, and when the link fails
/// (unplugged, dead, not there yet) looks for the port again and reopens it with exponential
/// backoff, until cancelled. While a matcher finds nothing it waits, looking every poll interval.
public final class DeviceConnection: Sendable {
  /// Something the connection reports.
  public enum Event: Sendable {
    /// Nothing matches yet (reported once per wait); the connection looks again every poll interval.
    case waiting(for: String)
    /// The matcher found this port, first or under another name than before (never for a fixed path).
    case found(MatchedPort)
    /// More than one port matches: the connection gives up and `run` returns.
    case ambiguous(AmbiguousPort)
    /// The port was opened.
    case opened(path: String)
    /// Something the session reported.
    case session(SessionEvent)
    /// The session ended, and why.
    case ended(SessionError)
    /// The next attempt comes after this delay.
    case retrying(after: Duration)
  }

  /// Backoff between attempts: from `initial`, doubling, at most `maximum`.
  public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    /// Backoff starting at `initial` and doubling up to `maximum`.
    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(8)) {
      self.initial = initial
      self.maximum = maximum
    }
  }

  /// Opens a transport for a path (a serial port by default).
  public typealias Opener = @Sendable (String) throws -> any ByteTransport

  /// Which port to open.
  public let matcher: PortMatcher
  private let discovery: any PortDiscovery
  private let pollInterval: Duration
  private let backoff: Backoff
  private let open: Opener
  private let traffic: DeviceSession.TrafficHandler?
  private let current = Mutex<DeviceSession?>(nil)
  private let pendingConfiguration = Mutex<Configure?>(nil)
  private let reconnectCount = Mutex(0)
  private let endedSessions = Mutex(SessionCounters())

  /// A connection to the device at `path`.
  public convenience init(
    path: String, baudRate: Int = 115_200, backoff: Backoff = Backoff(),
    traffic: DeviceSession.TrafficHandler? = nil, open: Opener? = nil
  ) {
    self.init(matching: .path(path), baudRate: baudRate, backoff: backoff, traffic: traffic, open: open)
  }

  /// A connection to whichever port `matcher` finds in `discovery` at each (re)connect; while none
  /// matches it looks again every `pollInterval`.
  public init(
    matching matcher: PortMatcher, discovery: any PortDiscovery = SystemPortDiscovery(),
    pollInterval: Duration = .milliseconds(250), baudRate: Int = 115_200, backoff: Backoff = Backoff(),
    traffic: DeviceSession.TrafficHandler? = nil, open: Opener? = nil
  ) {
    self.matcher = matcher
    self.discovery = discovery
    self.pollInterval = pollInterval
    self.backoff = backoff
    self.traffic = traffic
    self.open =
      open ?? { path in
        try SerialPortTransport(path: path, configuration: SerialConfiguration(baudRate: baudRate))
      }
  }

  /// The fixed path, or what the matcher waits for (the capture's name for the port until one opens).
  public var path: String { matcher.description }

  /// Times the link was reopened after the first session.
  public var reconnects: Int { reconnectCount.withLock { $0 } }

  /// Counters of every session so far, the current one included.
  public var counters: SessionCounters {
    var total = endedSessions.withLock { $0 }
    if let session = current.withLock({ $0 }) { total.add(session.counters) }
    return total
  }

  /// Applies a configuration now and to every later session (after a reconnect or a reboot).
  public func configure(_ configuration: Configure) {
    pendingConfiguration.withLock { $0 = configuration }
    try? current.withLock { $0 }?.configure(configuration)
  }

  /// Runs until the task is cancelled, or until more than one port matches.
  public func run(onEvent: @escaping @Sendable (Event) -> Void) async {
    var delay = backoff.initial
    var attempt = 0
    var waiting = false
    var lastFound: MatchedPort?
    let isFixedPath = if case .path = matcher { true } else { false }
    while !Task.isCancelled {
      let path: String
      switch matcher.resolve(in: discovery) {
      case .found(let port):
        // A fixed path is what the user named: finding it is no news.
        if !isFixedPath, waiting || port != lastFound { onEvent(.found(port)) }
        waiting = false
        lastFound = port
        path = port.path
      case .none(let problem):
        if !waiting {
          waiting = true
          onEvent(.waiting(for: matcher.description + (problem.map { " (cannot look: \($0))" } ?? "")))
        }
        // A device that appears is opened at once, not after the backoff an earlier failure earned.
        delay = backoff.initial
        try? await Task.sleep(for: pollInterval)
        continue
      case .ambiguous(let candidates):
        onEvent(.ambiguous(AmbiguousPort(wanted: matcher.description, candidates: candidates)))
        return
      }
      if attempt > 0 { reconnectCount.withLock { $0 += 1 } }
      attempt += 1
      var connected = false
      do {
        let transport = try open(path)
        onEvent(.opened(path: path))
        let session = DeviceSession(
          transport: transport, options: HostSessionCore.Options(linkName: path), traffic: traffic)
        current.withLock { $0 = session }
        let configuration = pendingConfiguration.withLock { $0 }
        do {
          try await session.run { [weak session] event in
            if case .connected = event, let configuration { try? session?.configure(configuration) }
            onEvent(.session(event))
          }
        } catch let error as SessionError {
          onEvent(.ended(error))
        } catch {
          // Cancelled.
        }
        connected = session.device != nil
        transport.close()
        let finished = session.counters
        endedSessions.withLock { $0.add(finished) }
        current.withLock { $0 = nil }
      } catch {
        onEvent(.ended(.linkClosed(path: path, reason: "\(error)")))
      }
      if Task.isCancelled { break }
      if connected { delay = backoff.initial }
      onEvent(.retrying(after: delay))
      try? await Task.sleep(for: delay)
      delay = min(delay * 2, backoff.maximum)
    }
  }
}
