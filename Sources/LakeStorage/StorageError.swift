#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

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
  /// A folder lake's root folder does not exist.
  case lakeNotFound(path: String)
  /// Something other than a folder is where a folder must be.
  case notAFolder(path: String)
  /// A local file or folder cannot be read.
  case unreadable(path: String, reason: String)
  /// A local file or folder cannot be written.
  case writeFailed(path: String, reason: String)
  /// Another process holds the lake for work that must not overlap (`holder` names it).
  case busy(path: String, holder: String)

  public var description: String {
    switch self {
    case .notFound(let key, let location): "no object \(key) in \(location)"
    case .accessDenied(let location, let reason): "access to \(location) denied: \(reason)"
    case .unreachable(let location, let reason): "cannot reach \(location): \(reason)"
    case .failed(let location, let operation, let reason): "\(operation) in \(location) failed: \(reason)"
    case .diskFull(let path): "the disk is full while writing \(path)"
    case .invalidConfiguration(let message): message
    case .invalidObject(let key, let reason): "\(key) is unusable: \(reason)"
    case .lakeNotFound(let path): "no lake at \(path): the folder does not exist"
    case .notAFolder(let path): "\(path) is not a folder"
    case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
    case .writeFailed(let path, let reason): "cannot write \(path): \(reason)"
    case .busy(let path, let holder): "another \(holder) is using the lake at \(path); wait for it to finish"
    }
  }
}

extension StorageError {
  /// The error for an errno met writing the local file `path`.
  public static func fromErrno(_ code: Int32, writing path: String) -> StorageError {
    if code == ENOSPC || code == EDQUOT { return .diskFull(path: path) }
    return .writeFailed(path: path, reason: String(cString: strerror(code)))
  }

  /// The error for an errno met reading the local file `path`.
  public static func fromErrno(_ code: Int32, reading path: String) -> StorageError {
    .unreadable(path: path, reason: String(cString: strerror(code)))
  }
}
