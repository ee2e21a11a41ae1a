/// How a serial port is set up when opened; the frame format is always 8 data bits, no parity, 1 stop bit.
public struct SerialConfiguration: Sendable, Hashable {
  /// Line speed in bits per second.
  public var baudRate: Int
  /// Handshake used to pause the sender.
  public var flowControl: FlowControl

  /// A configuration; the defaults match the Step Trainer firmware (115200 baud, no flow control).
  public init(baudRate: Int = 115_200, flowControl: FlowControl = .none) {
    self.baudRate = baudRate
    self.flowControl = flowControl
  }
}

/// Serial flow control.
public enum FlowControl: String, Sendable, Hashable, CaseIterable {
  /// No handshake.
  case none
  /// Hardware handshake on the RTS/CTS lines.
  case rtsCts
  /// Software handshake with XON (0x11) / XOFF (0x13) bytes; those bytes then cannot be sent as data.
  case xonXoff
}
