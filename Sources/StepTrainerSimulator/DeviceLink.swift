import Foundation

/// A symlink at a stable path pointing at the current pseudo-terminal, so a host keeps one name for a device whose
/// pseudo-terminal changes when it is unplugged and plugged in again.
struct DeviceLink: Sendable {
  /// Where the link lives.
  let path: String

  /// Points the link at `target`, replacing an earlier link atomically (a new link renamed over the old one), so a
  /// host never sees the name missing. Refuses to replace anything that is not a symlink.
  func point(to target: String) throws(SimulatorDeviceError) {
    var info = stat()
    if lstat(path, &info) == 0, info.st_mode & S_IFMT != S_IFLNK {
      throw .link(path: path, reason: "it exists and is not a symlink")
    }
    let temporary = "\(path).\(getpid()).tmp"
    unlink(temporary)
    guard symlink(target, temporary) == 0 else {
      throw .link(path: path, reason: String(cString: strerror(errno)))
    }
    guard rename(temporary, path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw .link(path: path, reason: reason)
    }
  }

  /// Removes the link if it still points at `target` (another simulator may have taken the name since).
  func remove(ifPointingAt target: String) {
    guard let current = try? FileManager.default.destinationOfSymbolicLink(atPath: path), current == target else {
      return
    }
    unlink(path)
  }
}
