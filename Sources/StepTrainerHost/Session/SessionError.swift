/// Why a device session ended.
public enum SessionError: Error, Sendable, Equatable, CustomStringConvertible {
  /// No HELLO answered our CONNECT after every retry.
  case noDevice(path: String, sawOtherHello: Bool)
  /// No valid frame arrived for the link timeout.
  case deadLink(path: String, silentMs: Int64)
  /// The device speaks another protocol version.
  case unsupportedVersion(path: String)
  /// The byte link ended or failed.
  case linkClosed(path: String, reason: String)

  public var description: String {
    switch self {
    case .noDevice(let path, let sawOtherHello):
      sawOtherHello
        ? "\(path): a device is there but did not join our session (its HELLOs ignore our CONNECT)"
        : "\(path): no Step Trainer answered (no HELLO after 6 CONNECT attempts over 3 s)"
    case .deadLink(let path, let silentMs): "\(path): no data from the device for \(silentMs) ms; the link is dead"
    case .unsupportedVersion(let path): "\(path): the device speaks an unsupported protocol version"
    case .linkClosed(let path, let reason): "\(path): \(reason)"
    }
  }
}
