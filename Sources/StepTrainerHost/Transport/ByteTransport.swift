/// A bidirectional byte link to one device: a serial port, a pseudo-terminal, or memory in tests.
public protocol ByteTransport: Sendable {
  /// Bytes as they arrive; the stream ends (or throws) when the link goes away.
  var received: AsyncThrowingStream<[UInt8], any Error> { get }
  /// Sends bytes to the device.
  func send(_ bytes: [UInt8]) throws
  /// Closes the link; `received` ends.
  func close()
}
