/// A simulated device run in real time: until `duration` passes or a stop is asked for,
/// rebooting it once after `restartAfter`, with its samples written to `sampleLog` as it goes.
public struct SimulationRun: Sendable {
  /// How long to run (nil: until stopped).
  public var duration: Duration?
  /// When to reboot the device once (nil: never).
  public var restartAfter: Duration?
  /// Where generated samples are written (nil: nowhere).
  public var sampleLog: SampleLogFile?

  /// A run; see each property.
  public init(duration: Duration? = nil, restartAfter: Duration? = nil, sampleLog: SampleLogFile? = nil) {
    self.duration = duration
    self.restartAfter = restartAfter
    self.sampleLog = sampleLog
  }

  /// Runs the started `device` and stops it; returns why writing the sample log failed, or nil.
  /// `isStopped` is polled every 20 ms (a signal handler sets what it reads).
  public func run(_ device: PseudoTerminalDevice, isStopped: @Sendable () -> Bool) async -> String? {
    let started = ContinuousClock.now
    var restarted = false
    var lastFlush = started
    var logError: String?
    while !isStopped() {
      try? await Task.sleep(for: .milliseconds(20))
      let elapsed = ContinuousClock.now - started
      if let duration, elapsed >= duration { break }
      if let restartAfter, !restarted, elapsed >= restartAfter {
        restarted = true
        device.restart()
      }
      // The log is written a few times a second, not per sample: the device thread only queues.
      if ContinuousClock.now - lastFlush >= .milliseconds(250) {
        lastFlush = .now
        logError = sampleLog?.flush()
        if logError != nil { break }
      }
    }
    device.stop()
    logError = logError ?? sampleLog?.flush()
    sampleLog?.close()
    return logError
  }
}
