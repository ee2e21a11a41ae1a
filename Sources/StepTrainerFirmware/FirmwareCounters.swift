/// What the firmware has done since boot: for a board's diagnostics and the simulator's report.
///
/// 32-bit counts that wrap, so they cost 20 bytes of RAM and never trap.
public struct FirmwareCounters: Equatable {
  /// Frames written to the UART, of any type.
  public var framesSent: UInt32 = 0
  /// Readings put into READING or READING_BATCH frames.
  public var readingsSent: UInt32 = 0
  /// NACKs sent.
  public var nacksSent: UInt32 = 0
  /// CONNECTs answered: sessions started.
  public var sessionsStarted: UInt32 = 0
  /// Sessions that ended because no host frame came for the link timeout.
  public var linkTimeouts: UInt32 = 0

  /// Counters at zero.
  public init() {}
}
