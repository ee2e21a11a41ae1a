/// One outcome of the decoder: a message with its frame's sequence, or a rejected frame.
public enum DecoderEvent: Sendable, Equatable {
  /// A frame that passed every check.
  case message(Message, sequence: UInt16)
  /// A candidate frame that failed a check; nothing of it is delivered.
  case rejected(FrameRejection)
}
