import CLibSerialPort

/// Discovery of the serial ports attached to this machine.
public enum SerialPorts {
  /// The serial ports libserialport finds (pseudo-terminals are not listed), sorted by path.
  public static func list() throws -> [SerialPortInfo] {
    var list: UnsafeMutablePointer<OpaquePointer?>?
    let result = sp_list_ports(&list)
    guard result == SP_OK, let list else {
      throw SerialPortError.listingFailed(reason: libSerialPortErrorText(result))
    }
    defer { sp_free_port_list(list) }

    var ports: [SerialPortInfo] = []
    var index = 0
    while let port = list[index] {
      ports.append(info(for: port))
      index += 1
    }
    return ports.sorted { $0.path < $1.path }
  }

  static func info(for port: OpaquePointer) -> SerialPortInfo {
    var info = SerialPortInfo(
      path: string(sp_get_port_name(port)) ?? "",
      portDescription: string(sp_get_port_description(port))
    )
    switch sp_get_port_transport(port) {
    case SP_TRANSPORT_USB:
      info.transport = .usb
      var vendor: Int32 = -1
      var product: Int32 = -1
      if sp_get_port_usb_vid_pid(port, &vendor, &product) == SP_OK {
        info.usbVendorID = UInt16(exactly: vendor)
        info.usbProductID = UInt16(exactly: product)
      }
      info.usbSerialNumber = string(sp_get_port_usb_serial(port))
      info.usbManufacturer = string(sp_get_port_usb_manufacturer(port))
      info.usbProduct = string(sp_get_port_usb_product(port))
    case SP_TRANSPORT_BLUETOOTH:
      info.transport = .bluetooth
    default:
      info.transport = .native
    }
    return info
  }

  private static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
    guard let pointer else { return nil }
    let text = String(cString: pointer)
    return text.isEmpty ? nil : text
  }
}

/// libserialport's text for the last failure (for `SP_ERR_FAIL` the errno text), with the return code.
func libSerialPortErrorText(_ result: sp_return) -> String {
  switch result {
  case SP_ERR_ARG, SP_ERR_FAIL:
    guard let message = sp_last_error_message() else { return "libserialport error \(result.rawValue)" }
    defer { sp_free_error_message(message) }
    return String(cString: message)
  case SP_ERR_MEM:
    return "out of memory"
  case SP_ERR_SUPP:
    return "not supported by this device or platform"
  default:
    return "libserialport error \(result.rawValue)"
  }
}
