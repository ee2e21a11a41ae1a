#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failure of the lake itself (as opposed to a bad record, which is quarantined): the run stops
/// and every published table stays as it was.
public enum LakeError: Error, Sendable, Equatable, CustomStringConvertible {
  case lakeNotFound(path: String)
  case notADirectory(path: String)
  case unreadable(path: String, reason: String)
  case writeFailed(path: String, reason: String)
  case diskFull(path: String)
  case invalidKey(path: String, reason: String)
  case busy(path: String)

  public var description: String {
    switch self {
    case .lakeNotFound(let path):
      "no lake at \(path): the folder does not exist (expected customer/landing, accelerometer/landing, step_trainer/landing inside)"
    case .notADirectory(let path): "\(path) is not a folder"
    case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
    case .writeFailed(let path, let reason): "cannot write \(path): \(reason)"
    case .diskFull(let path):
      "the disk is full while writing \(path); nothing was published, free some space and run again"
    case .invalidKey(let path, let reason): "the pseudonym key at \(path) is unusable: \(reason)"
    case .busy(let path): "another pipeline run is using the lake at \(path); wait for it to finish"
    }
  }

  static func fromErrno(_ code: Int32, writing path: String) -> LakeError {
    if code == ENOSPC || code == EDQUOT { return .diskFull(path: path) }
    return .writeFailed(path: path, reason: String(cString: strerror(code)))
  }

  static func fromErrno(_ code: Int32, reading path: String) -> LakeError {
    .unreadable(path: path, reason: String(cString: strerror(code)))
  }
}
