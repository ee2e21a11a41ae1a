import SerialPort
import StepTrainerProtocol
import Synchronization

/// Keeps a session with the device at a path: opens it, runs a session, and when the link fails
/// (unplugged, dead, not there yet) reopens it with exponential backoff, until cancelled.
public final class DeviceConnection: Sendable {
  /// Something the connection reports.
  public enum Event: Sendable {
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

  public let path: String
  private let backoff: Backoff
  private let open: Opener
  private let traffic: DeviceSession.TrafficHandler?
  private let current = Mutex<DeviceSession?>(nil)
  private let pendingConfiguration = Mutex<Configure?>(nil)
  private let reconnectCount = Mutex(0)
  private let endedSessions = Mutex(SessionCounters())

  /// A connection to the device at `path`.
  public init(
    path: String, baudRate: Int = 115_200, backoff: Backoff = Backoff(),
    traffic: DeviceSession.TrafficHandler? = nil, open: Opener? = nil
  ) {
    self.path = path
    self.backoff = backoff
    self.traffic = traffic
    self.open =
      open ?? { path in
        try SerialPortTransport(path: path, configuration: SerialConfiguration(baudRate: baudRate))
      }
  }

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

  /// Runs until the task is cancelled.
  public func run(onEvent: @escaping @Sendable (Event) -> Void) async {
    var delay = backoff.initial
    var attempt = 0
    while !Task.isCancelled {
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
