/// A failure of lake storage, worded for the person running the command.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
  /// No object under the key.
  case notFound(key: String, location: String)
  /// The store refused our credentials (a wrong secret key gives this, not a generic failure).
  case accessDenied(location: String, reason: String)
  /// The store could not be reached at all.
  case unreachable(location: String, reason: String)
  /// The store answered with an error we do not handle specially.
  case failed(location: String, operation: String, reason: String)
  /// The local disk is full.
  case diskFull(path: String)
  /// The lake location or its settings are wrong (a bad `s3://` URL, a missing key).
  case invalidConfiguration(String)
  /// An object holds something this program cannot use (a damaged key or metadata file).
  case invalidObject(key: String, reason: String)

  public var description: String {
    switch self {
    case .notFound(let key, let location): "no object \(key) in \(location)"
    case .accessDenied(let location, let reason): "access to \(location) denied: \(reason)"
    case .unreachable(let location, let reason): "cannot reach \(location): \(reason)"
    case .failed(let location, let operation, let reason): "\(operation) in \(location) failed: \(reason)"
    case .diskFull(let path): "the disk is full while writing \(path)"
    case .invalidConfiguration(let message): message
    case .invalidObject(let key, let reason): "\(key) is unusable: \(reason)"
    }
  }
}
