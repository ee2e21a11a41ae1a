import StepTrainerProtocol

/// Maps device time to wall-clock epoch milliseconds from NTP-style time-sync samples
/// (PROTOCOL.md 4.4): the offset of the sample with the smallest round trip among the last eight,
/// the one least disturbed by queueing.
public struct ClockEstimator: Sendable {
  /// One completed exchange.
  public struct Sample: Sendable, Equatable {
    /// Device clock minus host clock, ms.
    public var offset: Int64
    /// Round trip minus the device's own processing time, ms.
    public var delay: Int64
  }

  /// How many recent samples are considered.
  public static let window = 8
  private var samples: [Sample] = []

  /// An estimator with no samples yet.
  public init() {}

  /// Adds the sample of one exchange: host send `t1`, device receive `t2` and send `t3`, host receive `t4`.
  @discardableResult
  public mutating func add(t1: Int64, t2: UInt64, t3: UInt64, t4: Int64) -> Sample {
    let deviceReceive = Int64(truncatingIfNeeded: t2)
    let deviceSend = Int64(truncatingIfNeeded: t3)
    // floor((a + b) / 2): an arithmetic shift rounds toward negative infinity, as the spec says.
    let sample = Sample(
      offset: ((deviceReceive - t1) + (deviceSend - t4)) >> 1, delay: (t4 - t1) - (deviceSend - deviceReceive))
    samples.append(sample)
    if samples.count > Self.window { samples.removeFirst() }
    return sample
  }

  /// The sample in use, nil before the first exchange.
  public var best: Sample? { samples.min { $0.delay < $1.delay } }

  /// Wall-clock epoch ms of a device time, nil before the first exchange.
  public func epochMilliseconds(deviceTime: UInt64) -> Int64? {
    guard let best else { return nil }
    return Int64(truncatingIfNeeded: deviceTime) - best.offset
  }

  /// Forgets every sample (the device restarted: its clock began again).
  public mutating func reset() { samples.removeAll() }
}
