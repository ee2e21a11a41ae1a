import StepTrainerProtocol

/// One capture: runs a device connection until stopped, feeds its readings to a destination (the
/// lake's landing folder or the ingest service), keeps the status, and commits what is held at the end.
public struct CaptureRun {
  /// The live line's two ends: `show` at most four times a second, `finish` before the last commit.
  public struct Progress {
    let show: (String) -> Void
    let finish: () -> Void
    /// Progress shown by `show` and cleared by `finish`.
    public init(show: @escaping (String) -> Void, finish: @escaping () -> Void) {
      self.show = show
      self.finish = finish
    }
  }

  /// How a capture ended: its counts, and the error that stopped it early, if any.
  public struct Outcome {
    /// The counts at the end.
    public var status: CaptureStatus
    /// The error that ended the capture: the destination's, or `AmbiguousPort` (what was captured
    /// before it still counts).
    public var failure: (any Error)?
  }

  /// What the loop reacts to.
  private enum Input: Sendable {
    case connection(DeviceConnection.Event)
    case tick
    case stop
  }

  /// The device.
  public let connection: DeviceConnection
  /// Where readings go.
  public let destination: any CaptureDestination
  /// Where every byte exchanged is saved, if anywhere.
  public let raw: RawCaptureWriter?
  /// How long to run; nil until stopped.
  public let duration: Duration?
  /// How often batch ages are checked and the live line is refreshed.
  public let tick: Duration

  /// A capture from `connection` into `destination`, also saving every byte to `raw` if given;
  /// it stops after `duration` if given, and checks batch ages every `tick`.
  public init(
    connection: DeviceConnection, destination: any CaptureDestination, raw: RawCaptureWriter? = nil,
    duration: Duration? = nil, tick: Duration = .milliseconds(250)
  ) {
    self.connection = connection
    self.destination = destination
    self.raw = raw
    self.duration = duration
    self.tick = tick
  }

  /// Runs until stopped: by `duration`, by the stop function `installStop` is given (it returns
  /// the function that uninstalls it), by the destination failing, or by more than one port
  /// matching. Never throws: the failure is in the outcome, next to the counts. `notice` gets a
  /// line when the capture starts waiting for its device and when it finds it.
  public func run(
    installStop: (_ stop: @escaping @Sendable () -> Void) -> () -> Void = { _ in {} },
    progress: Progress? = nil, notice: (String) -> Void = { _ in }
  ) async -> Outcome {
    let (connection, raw, duration, tick) = (connection, raw, duration, tick)
    let writer = destination
    let (events, continuation) = AsyncStream.makeStream(of: Input.self)
    let runner = Task {
      await connection.run { event in
        if case .opened(let port) = event { raw?.opened(port: port, atMs: WallClock.nowMs()) }
        continuation.yield(.connection(event))
      }
    }
    let ticker = Task {
      while !Task.isCancelled {
        try? await Task.sleep(for: tick)
        continuation.yield(.tick)
      }
    }
    let uninstallStop = installStop { continuation.yield(.stop) }
    let timer = Task {
      guard let duration else { return }
      try? await Task.sleep(for: duration)
      continuation.yield(.stop)
    }

    var status = CaptureStatus(port: connection.path)
    var failure: (any Error)?
    // Only a destination's failure makes what it holds suspect; after any other the batch is committed.
    var destinationFailed = false
    loop: for await input in events {
      let now = WallClock.nowMs()
      do {
        switch input {
        case .stop:
          break loop
        case .tick:
          try await writer.flushIfDue(now: now)
        case .connection(.ambiguous(let error)):
          failure = error
          break loop
        case .connection(let event):
          status.note(event)
          if let line = Self.notice(for: event) { notice(line) }
          if case .session(.reading(let reading)) = event { try await writer.add(reading, now: now) }
        }
      } catch {
        failure = error
        destinationFailed = true
        break loop
      }
      // The live line is built at most four times a second and only when it is shown: at line
      // rate a device delivers thousands of readings a second, and formatting a line for each
      // cost more than decoding them.
      if let progress, case .tick = input {
        status.counters = connection.counters
        status.reconnects = connection.reconnects
        progress.show(status.line(written: writer.recordsWritten + writer.pending))
      }
    }
    runner.cancel()
    ticker.cancel()
    timer.cancel()
    uninstallStop()
    await runner.value
    continuation.finish()
    // Events that arrived while stopping still count.
    for await input in events {
      if case .connection(let event) = input {
        status.note(event)
        if case .session(.reading(let reading)) = event, !destinationFailed {
          do {
            try await writer.add(reading, now: WallClock.nowMs())
          } catch {
            failure = error
            destinationFailed = true
          }
        }
      }
    }
    progress?.finish()
    if !destinationFailed {
      do { try await writer.flush() } catch { failure = error }
    }
    raw?.close()
    status.counters = connection.counters
    status.reconnects = connection.reconnects
    return Outcome(status: status, failure: failure)
  }

  /// The line worth telling the user about `event` (waiting for the device, finding it), or nil.
  public static func notice(for event: DeviceConnection.Event) -> String? {
    switch event {
    case .waiting(let wanted): "waiting for \(wanted)"
    case .found(let port): "found \(port)"
    default: nil
    }
  }
}
