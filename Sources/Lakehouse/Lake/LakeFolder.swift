import Foundation

/// A folder lake about to be written by a long-running process, checked before it starts.
public enum LakeFolder {
  /// Why a lake folder cannot be used; the description is one line for the user.
  public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
    /// There is no folder at the path and creating it was not asked for.
    case missing(String)
    /// Creating the folder (asked for) failed.
    case cannotCreate(String, reason: String)
    /// Something other than a folder is at the path.
    case notAFolder(String)
    /// The folder exists but a file cannot be created in it.
    case notWritable(String, reason: String)

    /// The problem in one line.
    public var description: String {
      switch self {
      case .missing(let path): "no lake at \(path): the folder does not exist (give --create to make one)"
      case .cannotCreate(let path, let reason): "cannot create the lake folder \(path): \(reason)"
      case .notAFolder(let path): "the lake \(path) is not a folder"
      case .notWritable(let path, let reason): "the lake folder \(path) is not writable: \(reason)"
      }
    }
  }

  /// Checks that `path` is a folder a file can be created in, creating it (and its parents) when
  /// `create` is set. Missing parents are never created silently: a mistyped path is an error.
  public static func prepare(_ path: String, create: Bool) throws(Problem) {
    var isDirectory: ObjCBool = false
    if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
      guard create else { throw .missing(path) }
      do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
      } catch {
        throw .cannotCreate(path, reason: (error as NSError).localizedDescription)
      }
    } else if !isDirectory.boolValue {
      throw .notAFolder(path)
    }
    // Root ignores permission bits, so the folder is tried, not its mode read.
    let probe = "\(path)/.stedi-serve-probe-\(getpid())"
    let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard descriptor >= 0 else { throw .notWritable(path, reason: String(cString: strerror(errno))) }
    close(descriptor)
    unlink(probe)
  }
}
