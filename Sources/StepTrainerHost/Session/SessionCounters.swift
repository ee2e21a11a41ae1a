import StepTrainerProtocol

/// What a session has seen, for the live status line and the summary.
public struct SessionCounters: Sendable, Equatable {
  /// Samples delivered, by status.
  public var readings = 0
  public var ok = 0
  public var outOfRange = 0
  public var noEcho = 0
  public var sensorFault = 0
  /// Samples the device took that never arrived (gaps in its sample counter).
  public var lost = 0
  /// Samples that arrived twice and were delivered once.
  public var duplicates = 0
  /// Device reboots seen.
  public var restarts = 0
  /// Faults the device reported.
  public var faults = 0
  /// Device frames that never arrived or arrived again: gaps and repeats in the device's frame
  /// sequence numbers (counted from each HELLO on; a HELLO starts a session or a new boot).
  public var missingFrames = 0
  public var repeatedFrames = 0
  /// Frames with an unknown message type (counted, ignored).
  public var unknownMessages = 0
  /// The frame decoder's counters: messages, rejections by reason, bytes discarded.
  public var decoder = DecoderCounters()

  /// Counters at zero.
  public init() {}

  mutating func count(_ status: ReadingStatus) {
    readings += 1
    switch status {
    case .ok: ok += 1
    case .outOfRange: outOfRange += 1
    case .noEcho: noEcho += 1
    case .sensorFault: sensorFault += 1
    }
  }
}
