/// What the simulator did that a host can only infer: every sample generated and every frame the line corrupted.
public struct SimulatorLog: Sendable, Equatable {
  /// Every sample generated, in order (including those later dropped or lost at a restart).
  public var samples: [GeneratedSample] = []
  /// The sequence numbers of outgoing frames that line noise damaged (a bit flip, or a garbage burst merged into
  /// them), with the boot they belong to.
  public var corruptedFrames: [CorruptedFrame] = []

  /// An empty log.
  public init() {}
}

/// An outgoing frame that line noise damaged, so a host cannot decode it.
public struct CorruptedFrame: Hashable, Sendable {
  /// The boot whose sequence numbering `sequence` belongs to.
  public var bootId: UInt32
  /// The frame's sequence number.
  public var sequence: UInt16

  /// A corrupted frame's identity.
  public init(bootId: UInt32, sequence: UInt16) {
    self.bootId = bootId
    self.sequence = sequence
  }
}
