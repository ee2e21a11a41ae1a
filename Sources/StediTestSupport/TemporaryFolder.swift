import Foundation

/// A fresh folder under the system's temporary folder for one test, removed by `remove()`.
public struct TemporaryFolder: Sendable {
  /// The folder's absolute path.
  public let path: String

  /// Creates `<temporary>/<prefix>-<name's letters and digits>-<UUID>`; `name` defaults to the calling test.
  public init(_ name: String = #function, prefix: String = "stedi") throws {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(safe)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  /// A folder made earlier whose path is all that was kept, so that it can be removed.
  public init(existing path: String) { self.path = path }

  /// The folder as a file URL.
  public var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

  /// Removes the folder and everything in it (a folder already gone is no error).
  public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
