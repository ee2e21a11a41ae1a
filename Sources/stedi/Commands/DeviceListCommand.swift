import ArgumentParser
import Foundation
import SerialPort

/// `stedi device list`: the serial ports of this machine, with what USB says about them.
struct DeviceListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List serial ports with their USB vendor and product id and serial string.")

  @Flag(help: "Print the ports as a JSON array.")
  var json = false

  func run() throws {
    let ports: [SerialPortInfo]
    do {
      ports = try SerialPorts.list()
    } catch {
      throw CommandFailure.report("cannot list serial ports: \(error)")
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      let data = try encoder.encode(ports.map(ListedPort.init))
      print(String(decoding: data, as: UTF8.self))
      return
    }
    guard !ports.isEmpty else {
      print("no serial ports found (pseudo-terminals are not listed; name one with --port)")
      return
    }
    for port in ports {
      var line = "\(port.path)  \(port.transport.rawValue)"
      if let vendor = port.usbVendorID, let product = port.usbProductID {
        line += String(format: "  %04x:%04x", vendor, product)
      }
      if let serial = port.usbSerialNumber { line += "  serial \(serial)" }
      if let description = port.portDescription { line += "  \(description)" }
      print(line)
    }
  }
}

/// One port in `stedi device list --json`; unknown values are `null`, not missing keys.
private struct ListedPort: Encodable {
  let port: SerialPortInfo

  private enum CodingKeys: String, CodingKey {
    case path, transport, description, usbVendorId, usbProductId, usbSerialNumber, usbManufacturer, usbProduct
  }

  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(port.path, forKey: .path)
    try container.encode(port.transport.rawValue, forKey: .transport)
    try container.encode(port.portDescription, forKey: .description)
    try container.encode(port.usbVendorID.map { String(format: "%04x", $0) }, forKey: .usbVendorId)
    try container.encode(port.usbProductID.map { String(format: "%04x", $0) }, forKey: .usbProductId)
    try container.encode(port.usbSerialNumber, forKey: .usbSerialNumber)
    try container.encode(port.usbManufacturer, forKey: .usbManufacturer)
    try container.encode(port.usbProduct, forKey: .usbProduct)
  }
}
