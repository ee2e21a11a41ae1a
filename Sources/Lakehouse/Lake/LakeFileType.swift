#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What kind of file system entry a table file is. Only regular files are read: a FIFO named
/// `*.json` blocks whoever opens it until a writer appears, and a device can be endless.
public enum LakeFileType: String, Sendable, Hashable {
  case regular
  case directory
  case fifo
  case socket
  case characterDevice
  case blockDevice
  case other

  /// The type of a `stat` mode.
  public init(mode: mode_t) {
    switch mode & S_IFMT {
    case S_IFREG: self = .regular
    case S_IFDIR: self = .directory
    case S_IFIFO: self = .fifo
    case S_IFSOCK: self = .socket
    case S_IFCHR: self = .characterDevice
    case S_IFBLK: self = .blockDevice
    default: self = .other
    }
  }

  /// How a quarantine entry names it.
  public var description: String {
    switch self {
    case .regular: "a regular file"
    case .directory: "a folder"
    case .fifo: "a FIFO (named pipe)"
    case .socket: "a Unix socket"
    case .characterDevice: "a character device"
    case .blockDevice: "a block device"
    case .other: "an entry of an unknown type"
    }
  }
}
