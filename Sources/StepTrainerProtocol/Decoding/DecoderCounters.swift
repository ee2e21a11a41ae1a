/// What a decoder has seen: messages, rejections per reason, and bytes discarded.
public struct DecoderCounters: Sendable, Equatable {
  /// Messages decoded.
  public var messages = 0
  /// Bytes of rejected candidates (delimiters excluded).
  public var bytesDiscarded = 0
  /// Rejections, indexed by `FrameRejection.rawValue`.
  public var rejections = InlineArray<8, Int>(repeating: 0)

  /// Counters at zero.
  public init() {}

  /// Rejections for one reason.
  public subscript(reason: FrameRejection) -> Int {
    get { rejections[Int(reason.rawValue)] }
    set { rejections[Int(reason.rawValue)] = newValue }
  }

  /// All rejected frames.
  public var framesRejected: Int {
    var total = 0
    for i in rejections.indices { total += rejections[i] }
    return total
  }

  public static func == (lhs: DecoderCounters, rhs: DecoderCounters) -> Bool {
    guard lhs.messages == rhs.messages, lhs.bytesDiscarded == rhs.bytesDiscarded else { return false }
    for i in lhs.rejections.indices where lhs.rejections[i] != rhs.rejections[i] { return false }
    return true
  }
}
