import Foundation

/// Where the phone capture page (`simulators/phone`) is found when no folder is given.
public enum PhonePageFolder {
  /// The first `simulators/phone` holding an `index.html` above the running executable or the
  /// working folder (where a checkout keeps it), or nil.
  public static func locate() -> String? {
    let starts = [
      URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent(),
      URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
    ]
    for start in starts {
      var folder = start
      while folder.path != "/" {
        let candidate = folder.appendingPathComponent("simulators/phone")
        if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("index.html").path) {
          return candidate.path
        }
        folder.deleteLastPathComponent()
      }
    }
    return nil
  }
}
