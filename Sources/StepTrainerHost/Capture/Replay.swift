/// Turns a raw capture back into the readings a live capture produced: the same session logic,
/// passive (it never sends), fed the device's bytes at their recorded arrival times.
public enum Replay {
  /// What a replay saw.
  public struct Summary: Sendable {
    public var counters = SessionCounters()
    public var sessions = 0
    public var devices: Set<String> = []
  }

  /// Replays `entries`, calling `onReading` for each sample in order.
  public static func run(
    _ entries: [RawCapture.Entry], onReading: (CapturedReading, _ atMs: Int64) throws -> Void
  ) throws -> Summary {
    var summary = Summary()
    var core: HostSessionCore?
    func finish() {
      guard let finished = core else { return }
      summary.counters.add(finished.counters)
    }
    for entry in entries {
      switch entry {
      case .opened(let time, let port):
        finish()
        var fresh = HostSessionCore(options: HostSessionCore.Options(linkName: port, passive: true))
        _ = fresh.start(now: time)
        core = fresh
        summary.sessions += 1
      case .bytes(let time, let fromDevice, let bytes):
        guard fromDevice else { continue }
        if core == nil {
          var fresh = HostSessionCore(options: HostSessionCore.Options(linkName: "capture", passive: true))
          _ = fresh.start(now: time)
          core = fresh
          summary.sessions += 1
        }
        let output = try core!.receive(bytes, now: time)
        for event in output.events {
          switch event {
          case .reading(let reading):
            summary.devices.insert(reading.serialNumber)
            try onReading(reading, time)
          default: break
          }
        }
      }
    }
    finish()
    return summary
  }
}

extension SessionCounters {
  /// Adds another session's counters to these.
  public mutating func add(_ other: SessionCounters) {
    readings += other.readings
    ok += other.ok
    outOfRange += other.outOfRange
    noEcho += other.noEcho
    sensorFault += other.sensorFault
    lost += other.lost
    duplicates += other.duplicates
    restarts += other.restarts
    faults += other.faults
    unknownMessages += other.unknownMessages
    missingFrames += other.missingFrames
    repeatedFrames += other.repeatedFrames
    decoder.messages += other.decoder.messages
    decoder.bytesDiscarded += other.decoder.bytesDiscarded
    for i in decoder.rejections.indices { decoder.rejections[i] += other.decoder.rejections[i] }
  }
}
