/// A serial port found on this machine, with what the OS knows about the device behind it.
public struct SerialPortInfo: Sendable, Hashable {
  /// How the port is attached.
  public enum Transport: String, Sendable, Hashable {
    /// A built-in or otherwise non-USB, non-Bluetooth port.
    case native
    /// A USB serial adapter or USB CDC-ACM device.
    case usb
    /// A Bluetooth serial link.
    case bluetooth
  }

  /// Device path to pass to `SerialPort(path:)`, e.g. `/dev/ttyACM0`.
  public var path: String
  /// The OS's human-readable description (for USB: product name and serial number).
  public var portDescription: String?
  /// How the port is attached.
  public var transport: Transport
  /// USB vendor id (USB ports only).
  public var usbVendorID: UInt16?
  /// USB product id (USB ports only).
  public var usbProductID: UInt16?
  /// USB serial number string (USB ports only, when the device reports one).
  public var usbSerialNumber: String?
  /// USB manufacturer string (USB ports only).
  public var usbManufacturer: String?
  /// USB product string (USB ports only).
  public var usbProduct: String?

  /// A port description; `SerialPorts.list()` builds these.
  public init(
    path: String, portDescription: String? = nil, transport: Transport = .native, usbVendorID: UInt16? = nil,
    usbProductID: UInt16? = nil, usbSerialNumber: String? = nil, usbManufacturer: String? = nil,
    usbProduct: String? = nil
  ) {
    self.path = path
    self.portDescription = portDescription
    self.transport = transport
    self.usbVendorID = usbVendorID
    self.usbProductID = usbProductID
    self.usbSerialNumber = usbSerialNumber
    self.usbManufacturer = usbManufacturer
    self.usbProduct = usbProduct
  }
}
