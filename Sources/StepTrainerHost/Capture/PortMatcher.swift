import Foundation
import SerialPort

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A USB vendor and product id pair, e.g. `2e8a:000a`.
public struct USBDeviceID: Sendable, Hashable, CustomStringConvertible {
  /// The vendor id.
  public var vendor: UInt16
  /// The product id.
  public var product: UInt16

  /// A vendor and product id pair.
  public init(vendor: UInt16, product: UInt16) {
    self.vendor = vendor
    self.product = product
  }

  /// Parses `VID:PID` in hex (1 to 4 digits each, an optional `0x`), as `lsusb` prints it; nil if malformed.
  public init?(_ text: String) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let vendor = Self.hex(parts[0]), let product = Self.hex(parts[1]) else { return nil }
    self.init(vendor: vendor, product: product)
  }

  private static func hex(_ text: Substring) -> UInt16? {
    let digits = text.lowercased().hasPrefix("0x") ? text.dropFirst(2) : text
    guard (1...4).contains(digits.count), digits.allSatisfy(\.isHexDigit) else { return nil }
    return UInt16(digits, radix: 16)
  }

  /// Four lowercase hex digits each, as `lsusb` and `stedi device list` print them.
  public var description: String { String(format: "%04x:%04x", vendor, product) }
}

/// An entry of a folder of device links (like `/dev/serial/by-id`), with the device it points to.
public struct PortLink: Sendable, Hashable {
  /// The entry's name, which names the device, e.g. `usb-STEDI_Step_Trainer_5e1f00d2-if00`.
  public var name: String
  /// The entry's full path.
  public var path: String
  /// The device path it resolves to (every symlink followed), nil when it points at nothing.
  public var target: String?

  /// A link entry.
  public init(name: String, path: String, target: String?) {
    self.name = name
    self.path = path
    self.target = target
  }
}

/// Where a matcher looks for ports: the system by default; tests give a fixed listing.
public protocol PortDiscovery: Sendable {
  /// The serial ports present, as libserialport lists them.
  func serialPorts() throws -> [SerialPortInfo]
  /// The entries of `folder`, sorted by name; none when the folder does not exist.
  func links(in folder: String) throws -> [PortLink]
}

/// The machine's ports: libserialport's listing and the file system's links.
public struct SystemPortDiscovery: PortDiscovery {
  /// The system's discovery.
  public init() {}

  /// `SerialPorts.list()`.
  public func serialPorts() throws -> [SerialPortInfo] { try SerialPorts.list() }

  /// The folder's entries (hidden ones skipped), each with where it resolves.
  public func links(in folder: String) throws -> [PortLink] {
    // udev removes /dev/serial/by-id with its last device: a missing folder means nothing is plugged in.
    guard FileManager.default.fileExists(atPath: folder) else { return [] }
    return try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted().map {
      name in
      let path = folder.hasSuffix("/") ? folder + name : "\(folder)/\(name)"
      return PortLink(name: name, path: path, target: Self.resolved(path))
    }
  }

  private static func resolved(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }
}

/// A port a matcher found: the device path to open, and the link it was found through.
public struct MatchedPort: Sendable, Hashable, CustomStringConvertible {
  /// The device path to open, e.g. `/dev/ttyACM1`.
  public var path: String
  /// The link that named it, if it was found in a folder of links.
  public var link: String?

  /// A matched port.
  public init(path: String, link: String? = nil) {
    self.path = path
    self.link = link
  }

  /// The path, and the link it was found through.
  public var description: String { link.map { "\(path) (\($0))" } ?? path }
}

/// What a matcher found when it looked.
public enum PortResolution: Sendable, Equatable {
  /// Exactly one port.
  case found(MatchedPort)
  /// Nothing yet; `problem` says why the ports could not be looked at, if that was the reason.
  case none(problem: String?)
  /// More than one device: which to open is the user's choice, not a guess.
  case ambiguous([MatchedPort])
}

/// More than one port matched what a capture waits for.
public struct AmbiguousPort: Error, Sendable, Equatable, CustomStringConvertible {
  /// What was asked for.
  public var wanted: String
  /// Every port that matched.
  public var candidates: [MatchedPort]

  public var description: String {
    "more than one port matches \(wanted): \(candidates.map(\.description).joined(separator: ", "))"
  }
}

/// Which port a capture opens. Anything but a fixed path is looked for again at every (re)connect,
/// so a device that comes back under another name (`/dev/ttyACM0`, then `/dev/ttyACM1`) is found.
public enum PortMatcher: Sendable, Hashable, CustomStringConvertible {
  /// This path as given: a serial port, a pseudo-terminal, or a link to one.
  case path(String)
  /// The USB serial port with this vendor and product id and this serial string (each nil: any);
  /// both nil is the only USB serial port present.
  case usb(id: USBDeviceID?, serialNumber: String?)
  /// The device an entry of `folder` points to, whose name matches `name`: a glob (`fnmatch`) if it
  /// has `*`, `?` or `[`, else a substring; nil matches every entry.
  case link(folder: String, name: String?)

  /// What the matcher waits for, in words.
  public var description: String {
    switch self {
    case .path(let path):
      return path
    case .usb(let id, let serialNumber):
      let device = id.map { "USB device \($0)" } ?? "a USB serial port"
      return serialNumber.map { "\(device) with serial number '\($0)'" } ?? device
    case .link(let folder, let name):
      return "a device link in \(folder)" + (name.map { " named like '\($0)'" } ?? "")
    }
  }

  /// Looks for the port now.
  public func resolve(in discovery: any PortDiscovery) -> PortResolution {
    let found: [MatchedPort]
    do {
      switch self {
      case .path(let path):
        return .found(MatchedPort(path: path))
      case .usb:
        found = matches(try discovery.serialPorts()).map { MatchedPort(path: $0.path) }
      case .link(let folder, _):
        // Several links may name one device (e.g. by-id and by-path, or a link being replaced):
        // one device, whichever link came first by name.
        var byTarget: [String: MatchedPort] = [:]
        var order: [String] = []
        for link in matches(try discovery.links(in: folder)) {
          guard let target = link.target, byTarget[target] == nil else { continue }
          byTarget[target] = MatchedPort(path: target, link: link.path)
          order.append(target)
        }
        found = order.map { byTarget[$0]! }
      }
    } catch {
      return .none(problem: "\(error)")
    }
    switch found.count {
    case 0: return .none(problem: nil)
    case 1: return .found(found[0])
    default: return .ambiguous(found)
    }
  }

  /// The listed ports this matcher accepts (none for a link or path matcher).
  public func matches(_ ports: [SerialPortInfo]) -> [SerialPortInfo] {
    guard case .usb(let id, let serialNumber) = self else { return [] }
    return ports.filter { port in
      port.transport == .usb
        && (id == nil || (port.usbVendorID == id?.vendor && port.usbProductID == id?.product))
        && (serialNumber == nil || port.usbSerialNumber == serialNumber)
    }
  }

  /// The links this matcher accepts that point at a device (none for a USB or path matcher).
  public func matches(_ links: [PortLink]) -> [PortLink] {
    guard case .link(_, let name) = self else { return [] }
    return links.filter { link in
      guard link.target != nil else { return false }
      guard let name else { return true }
      if name.contains(where: { "*?[".contains($0) }) { return fnmatch(name, link.name, 0) == 0 }
      return link.name.contains(name)
    }
  }
}
