#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failure of the write-ahead log, worded for the person running the service.
public enum WALError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The log directory or a new segment file could not be created.
  case cannotCreate(path: String, errno: Int32)
  /// An existing segment file or the directory could not be opened.
  case cannotOpen(path: String, errno: Int32)
  /// A segment file could not be read while opening the log.
  case readFailed(path: String, errno: Int32)
  /// A write, sync, truncation or deletion failed (`operation` names the system call).
  case writeFailed(path: String, operation: String, errno: Int32)
  /// The file system holding the log is full (or the quota is exhausted).
  case diskFull(path: String)
  /// One payload is larger than a record may be.
  case payloadTooLarge(bytes: Int, limit: Int)
  /// The log was closed (or is closing) before this call.
  case closed(directory: String)

  public var description: String {
    switch self {
    case .cannotCreate(let path, let code):
      "cannot create write-ahead log file or directory \(path): \(Self.message(code))"
    case .cannotOpen(let path, let code):
      "cannot open write-ahead log file or directory \(path): \(Self.message(code))"
    case .readFailed(let path, let code):
      "cannot read write-ahead log segment \(path): \(Self.message(code))"
    case .writeFailed(let path, let operation, let code):
      "\(operation) of write-ahead log \(path) failed: \(Self.message(code))"
    case .diskFull(let path):
      "the disk is full while writing the write-ahead log \(path)"
    case .payloadTooLarge(let bytes, let limit):
      "a write-ahead log record of \(bytes) bytes exceeds the limit of \(limit) bytes"
    case .closed(let directory):
      "the write-ahead log in \(directory) is closed"
    }
  }

  /// The error for a failed write-side system call: a full disk gets its own case because the
  /// operator's remedy (free space) differs from that of an I/O error.
  static func writing(_ path: String, operation: String, errno code: Int32) -> WALError {
    code == ENOSPC || code == EDQUOT
      ? .diskFull(path: path) : .writeFailed(path: path, operation: operation, errno: code)
  }

  private static func message(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
  }
}
