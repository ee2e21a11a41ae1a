/// CONFIGURE (host to device): a new sample rate and batch size; 0 keeps a value (PROTOCOL.md 5.6).
///
/// Any values decode: a device answers values it cannot apply with NACK `outOfRange`, so the
/// host learns why, rather than the frame vanishing as a decoder rejection.
public struct Configure: Hashable, Sendable {
  /// The new rate in hundredths of a hertz (100 to 1,600), or 0 to keep the current one.
  public var sampleRateCentihertz: UInt16
  /// Readings per frame (1 to 45), or 0 to keep the current value.
  public var batchSize: UInt8

  /// A CONFIGURE message.
  public init(sampleRateCentihertz: UInt16, batchSize: UInt8 = 0) {
    self.sampleRateCentihertz = sampleRateCentihertz
    self.batchSize = batchSize
  }

  /// Whether a device can apply it.
  public var isApplicable: Bool {
    (sampleRateCentihertz == 0 || Hello.sampleRateRange.contains(sampleRateCentihertz))
      && Int(batchSize) <= ReadingBatch.capacity
  }

  init(_ reader: inout PayloadReader) {
    sampleRateCentihertz = reader.u16()
    batchSize = reader.u8()
  }

  /// Writes the payload (MessagePayload).
  public func write(_ writer: inout PayloadWriter) {
    writer.u16(sampleRateCentihertz)
    writer.u8(batchSize)
  }
}
