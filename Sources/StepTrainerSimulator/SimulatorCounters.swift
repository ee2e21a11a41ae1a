/// What a simulated device has done since it was created (across restarts).
public struct SimulatorCounters: Sendable, Equatable {
  /// Samples the sensor took.
  public var samplesTaken = 0
  /// Samples put into READING or READING_BATCH frames (even frames the line later corrupted).
  public var samplesSent = 0
  /// Samples dropped because the ring buffer was full.
  public var samplesDropped = 0
  /// Samples still in the buffer when the device restarted, never sent.
  public var samplesLostAtRestart = 0
  /// Frames sent, of any type.
  public var framesSent = 0
  /// Valid frames received from hosts.
  public var framesReceived = 0
  /// Candidate frames from hosts that the decoder rejected.
  public var framesRejected = 0
  /// NACKs sent.
  public var nacksSent = 0
  /// CONNECTs answered: sessions started.
  public var hostConnections = 0
  /// Sessions that ended because no host frame came for 3 seconds.
  public var linkTimeouts = 0
  /// Reboots after the first boot.
  public var restarts = 0
  /// Garbage bursts put on the line.
  public var noiseBursts = 0
  /// Bits flipped in outgoing frames.
  public var bitFlips = 0
  /// Outgoing frames damaged by noise (bit flips, and frames a garbage burst merged into).
  public var framesCorrupted = 0

  /// Counters at zero.
  public init() {}
}
