import StepTrainerProtocol
import Synchronization

/// A live session with one device over a byte transport: the handshake, time sync, heartbeats and
/// the dead-link watchdog run by themselves while readings and other events are delivered.
public final class DeviceSession: Sendable {
  /// What the session observed, delivered in order from one task at a time.
  public typealias EventHandler = @Sendable (SessionEvent) -> Void
  /// Raw traffic: bytes, wall-clock ms of arrival or departure, and whether they came from the device.
  public typealias TrafficHandler = @Sendable (_ bytes: [UInt8], _ atMs: Int64, _ fromDevice: Bool) -> Void

  private let transport: any ByteTransport
  private let core: Mutex<HostSessionCore>
  private let delivery = Mutex(())
  private let now: @Sendable () -> Int64
  private let traffic: TrafficHandler?
  /// How often timers are checked (heartbeats, syncs, retries, the watchdog).
  private let tickInterval: Duration

  /// A session over `transport`; nothing is sent until `run`.
  public init(
    transport: any ByteTransport, options: HostSessionCore.Options, tickInterval: Duration = .milliseconds(20),
    now: @escaping @Sendable () -> Int64 = WallClock.nowMs, traffic: TrafficHandler? = nil
  ) {
    self.transport = transport
    core = Mutex(HostSessionCore(options: options))
    self.now = now
    self.traffic = traffic
    self.tickInterval = tickInterval
  }

  /// What the session has seen so far.
  public var counters: SessionCounters { core.withLock { $0.counters } }

  /// The device, once connected.
  public var device: DeviceInfo? { core.withLock { $0.device } }

  /// Runs the session until the link ends or fails; always throws a `SessionError` saying why
  /// (cancellation ends it with `CancellationError`).
  public func run(onEvent: @escaping EventHandler) async throws {
    let linkName = core.withLock { $0.options.linkName }
    do {
      try deliver(core.withLock { $0.start(now: now()) }, onEvent)
    } catch {
      throw SessionError.linkClosed(path: linkName, reason: "cannot send to the device: \(error)")
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        do {
          for try await chunk in self.transport.received {
            let time = self.now()
            self.traffic?(chunk, time, true)
            let output = try self.core.withLock { core throws(SessionError) in try core.receive(chunk, now: time) }
            try self.deliver(output, onEvent)
          }
        } catch let error as SessionError {
          throw error
        } catch is CancellationError {
          throw CancellationError()
        } catch {
          throw SessionError.linkClosed(path: linkName, reason: "\(error)")
        }
        throw SessionError.linkClosed(path: linkName, reason: "the device closed the link")
      }
      group.addTask {
        while true {
          try await Task.sleep(for: self.tickInterval)
          let time = self.now()
          let output = try self.core.withLock { core throws(SessionError) in try core.tick(now: time) }
          try self.deliver(output, onEvent)
        }
      }
      defer { group.cancelAll() }
      try await group.next()
    }
  }

  /// Sends what a step produced and hands its events over. Under one lock, so the handler sees
  /// events from the reading task and the timer task in the order the session produced them.
  private func deliver(_ output: HostSessionCore.Output, _ onEvent: EventHandler) throws {
    try delivery.withLock { _ in
      if !output.send.isEmpty {
        try transport.send(output.send)
        traffic?(output.send, now(), false)
      }
      for event in output.events { onEvent(event) }
    }
  }

  /// Asks the device to change its sample rate or batch size; the answer arrives as an event.
  public func configure(_ configuration: Configure) throws {
    let output = core.withLock { $0.configure(configuration, now: now()) }
    if !output.send.isEmpty {
      try transport.send(output.send)
      traffic?(output.send, now(), false)
    }
  }

  /// Ends the session by closing its link.
  public func close() { transport.close() }
}
