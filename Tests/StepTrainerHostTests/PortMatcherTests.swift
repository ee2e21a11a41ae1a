import SerialPort
import Testing

@testable import StepTrainerHost

/// The port matcher over fixed listings: libserialport cannot be made to list a fake USB port, so
/// VID:PID and serial-string matching are tested on `SerialPortInfo` values as it would build them.
@Suite struct PortMatcherTests {
  /// A listing given by the test.
  struct FixedDiscovery: PortDiscovery {
    var ports: [SerialPortInfo] = []
    var links: [String: [PortLink]] = [:]
    var failure: String?

    struct Failed: Error, CustomStringConvertible {
      let description: String
    }

    func serialPorts() throws -> [SerialPortInfo] {
      if let failure { throw Failed(description: failure) }
      return ports
    }

    func links(in folder: String) throws -> [PortLink] {
      if let failure { throw Failed(description: failure) }
      return links[folder] ?? []
    }
  }

  static let pico = SerialPortInfo(
    path: "/dev/ttyACM0", portDescription: "Step Trainer - E6614103E7", transport: .usb, usbVendorID: 0x2E8A,
    usbProductID: 0x000A, usbSerialNumber: "E6614103E7", usbManufacturer: "STEDI", usbProduct: "Step Trainer")
  static let secondPico = SerialPortInfo(
    path: "/dev/ttyACM1", transport: .usb, usbVendorID: 0x2E8A, usbProductID: 0x000A, usbSerialNumber: "E66141040B")
  static let ftdi = SerialPortInfo(
    path: "/dev/ttyUSB0", transport: .usb, usbVendorID: 0x0403, usbProductID: 0x6001, usbSerialNumber: "A50285BI")
  static let builtIn = SerialPortInfo(path: "/dev/ttyS0", transport: .native)

  @Test func parsesVendorAndProductIDsInHex() {
    #expect(USBDeviceID("2e8a:000a") == USBDeviceID(vendor: 0x2E8A, product: 0x000A))
    #expect(USBDeviceID("2E8A:A") == USBDeviceID(vendor: 0x2E8A, product: 0x000A))
    #expect(USBDeviceID("0x0403:0x6001") == USBDeviceID(vendor: 0x0403, product: 0x6001))
    #expect(USBDeviceID(vendor: 0x403, product: 0x6001).description == "0403:6001")
    for bad in ["", "2e8a", "2e8a:", ":000a", "2e8a:000a:1", "12345:0001", "zz:0001", "2e8a 000a", "-1:2"] {
      #expect(USBDeviceID(bad) == nil, "'\(bad)'")
    }
  }

  @Test func plainAutoIsTheOnlyUSBPort() {
    let auto = PortMatcher.usb(id: nil, serialNumber: nil)
    #expect(auto.description == "a USB serial port")
    #expect(
      auto.resolve(in: FixedDiscovery(ports: [Self.builtIn, Self.pico])) == .found(MatchedPort(path: "/dev/ttyACM0")))
    #expect(auto.resolve(in: FixedDiscovery(ports: [Self.builtIn])) == .none(problem: nil))
    #expect(
      auto.resolve(in: FixedDiscovery(ports: [Self.pico, Self.ftdi]))
        == .ambiguous([MatchedPort(path: "/dev/ttyACM0"), MatchedPort(path: "/dev/ttyUSB0")]))
  }

  @Test func matchesByVendorAndProductID() {
    let listing = [Self.builtIn, Self.pico, Self.ftdi]
    let pico = PortMatcher.usb(id: USBDeviceID("2e8a:000a"), serialNumber: nil)
    #expect(pico.description == "USB device 2e8a:000a")
    #expect(pico.matches(listing) == [Self.pico])
    #expect(pico.resolve(in: FixedDiscovery(ports: listing)) == .found(MatchedPort(path: "/dev/ttyACM0")))
    #expect(PortMatcher.usb(id: USBDeviceID("2e8a:0005"), serialNumber: nil).matches(listing).isEmpty)
    // Two boards of the same kind: the ids cannot tell them apart, and the error names both.
    let resolution = pico.resolve(in: FixedDiscovery(ports: listing + [Self.secondPico]))
    #expect(resolution == .ambiguous([MatchedPort(path: "/dev/ttyACM0"), MatchedPort(path: "/dev/ttyACM1")]))
    let error = AmbiguousPort(
      wanted: pico.description, candidates: [Self.pico, Self.secondPico].map { .init(path: $0.path) })
    #expect(error.description == "more than one port matches USB device 2e8a:000a: /dev/ttyACM0, /dev/ttyACM1")
  }

  @Test func matchesByUSBSerialStringAloneOrWithTheIDs() {
    let listing = [Self.builtIn, Self.pico, Self.secondPico, Self.ftdi]
    let bySerial = PortMatcher.usb(id: nil, serialNumber: "E66141040B")
    #expect(bySerial.description == "a USB serial port with serial number 'E66141040B'")
    #expect(bySerial.matches(listing) == [Self.secondPico])
    let both = PortMatcher.usb(id: USBDeviceID(vendor: 0x2E8A, product: 0x000A), serialNumber: "E6614103E7")
    #expect(both.description == "USB device 2e8a:000a with serial number 'E6614103E7'")
    #expect(both.matches(listing) == [Self.pico])
    // Serial strings compare exactly; the FTDI adapter's serial under the Pico's ids is no match.
    #expect(PortMatcher.usb(id: nil, serialNumber: "e6614103e7").matches(listing).isEmpty)
    #expect(PortMatcher.usb(id: USBDeviceID("2e8a:000a"), serialNumber: "A50285BI").matches(listing).isEmpty)
    // The device back under another name is the same match.
    var moved = Self.secondPico
    moved.path = "/dev/ttyACM2"
    #expect(
      bySerial.resolve(in: FixedDiscovery(ports: [Self.pico, moved])) == .found(MatchedPort(path: "/dev/ttyACM2")))
  }

  @Test func matchesLinksByNameSubstringOrGlobAndSkipsDanglingOnes() {
    let folder = "/dev/serial/by-id"
    func link(_ name: String, _ target: String?) -> PortLink {
      PortLink(name: name, path: "\(folder)/\(name)", target: target)
    }
    let trainer = link("usb-STEDI_Step_Trainer_E6614103E7-if00", "/dev/ttyACM1")
    let other = link("usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0", "/dev/ttyUSB0")
    let gone = link("usb-STEDI_Step_Trainer_E66141040B-if00", nil)
    let discovery = FixedDiscovery(links: [folder: [other, trainer, gone]])

    let glob = PortMatcher.link(folder: folder, name: "usb-STEDI_*")
    #expect(glob.description == "a device link in /dev/serial/by-id named like 'usb-STEDI_*'")
    #expect(glob.matches([other, trainer, gone]) == [trainer])
    #expect(glob.resolve(in: discovery) == .found(MatchedPort(path: "/dev/ttyACM1", link: trainer.path)))
    #expect(PortMatcher.link(folder: folder, name: "E6614103E7").resolve(in: discovery) == glob.resolve(in: discovery))
    #expect(PortMatcher.link(folder: folder, name: "*-if0[0-9]").matches([other, trainer]) == [trainer])
    #expect(PortMatcher.link(folder: folder, name: "E66141040B").resolve(in: discovery) == .none(problem: nil))
    #expect(PortMatcher.link(folder: "/nowhere", name: nil).resolve(in: discovery) == .none(problem: nil))
    // Any link: two devices, named by their links.
    let any = PortMatcher.link(folder: folder, name: nil)
    #expect(
      any.resolve(in: discovery)
        == .ambiguous([
          MatchedPort(path: "/dev/ttyUSB0", link: other.path), MatchedPort(path: "/dev/ttyACM1", link: trainer.path),
        ]))
    // Two links to one device (a link being replaced, or by-id beside by-path) are one match.
    let alias = link("usb-STEDI_Step_Trainer_E6614103E7-if00.tmp", "/dev/ttyACM1")
    #expect(
      glob.resolve(in: FixedDiscovery(links: [folder: [trainer, alias]]))
        == .found(MatchedPort(path: "/dev/ttyACM1", link: trainer.path)))
  }

  @Test func aFixedPathIsNeverLookedUpAndAListingFailureIsWaitedOut() {
    let failing = FixedDiscovery(failure: "permission denied")
    #expect(PortMatcher.path("/dev/ttyACM0").resolve(in: failing) == .found(MatchedPort(path: "/dev/ttyACM0")))
    #expect(PortMatcher.usb(id: nil, serialNumber: nil).resolve(in: failing) == .none(problem: "permission denied"))
    #expect(PortMatcher.link(folder: "/x", name: nil).resolve(in: failing) == .none(problem: "permission denied"))
  }

  @Test func theCaptureNoticesWaitingAndFinding() {
    #expect(CaptureRun.notice(for: .waiting(for: "USB device 2e8a:000a")) == "waiting for USB device 2e8a:000a")
    #expect(
      CaptureRun.notice(for: .found(MatchedPort(path: "/dev/ttyACM1", link: "/dev/serial/by-id/usb-STEDI")))
        == "found /dev/ttyACM1 (/dev/serial/by-id/usb-STEDI)")
    #expect(CaptureRun.notice(for: .opened(path: "/dev/ttyACM1")) == nil)
  }
}
