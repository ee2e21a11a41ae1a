/// Why a payload with a valid CRC still does not decode (the decoder's `payload` outcome).
public enum PayloadError: Error, Sendable, Equatable {
  /// The payload's size is not the size its type requires.
  case size
  /// A field holds a value the protocol does not allow.
  case value
}
