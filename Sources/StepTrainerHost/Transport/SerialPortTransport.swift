import SerialPort

/// A serial port (or pseudo-terminal) as a device link.
public struct SerialPortTransport: ByteTransport {
  /// The open port.
  public let port: SerialPort

  /// Opens `path` (8N1 at the configured baud rate).
  public init(path: String, configuration: SerialConfiguration = SerialConfiguration()) throws {
    port = try SerialPort(path: path, configuration: configuration)
  }

  public var received: AsyncThrowingStream<[UInt8], any Error> { port.received }

  public func send(_ bytes: [UInt8]) throws { try port.write(bytes) }

  public func close() { port.close() }
}
