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
      FileHandle.standardError.write(Data("stedi: error: cannot list serial ports: \(error)\n".utf8))
      throw ExitCode(2)
    }
    if json {
      let objects: [[String: Any]] = ports.map { port in
        [
          "path": port.path, "transport": port.transport.rawValue,
          "description": port.portDescription ?? NSNull(),
          "usbVendorId": port.usbVendorID.map { String(format: "%04x", $0) } ?? NSNull(),
          "usbProductId": port.usbProductID.map { String(format: "%04x", $0) } ?? NSNull(),
          "usbSerialNumber": port.usbSerialNumber ?? NSNull(),
          "usbManufacturer": port.usbManufacturer ?? NSNull(), "usbProduct": port.usbProduct ?? NSNull(),
        ]
      }
      let data = try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys])
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
