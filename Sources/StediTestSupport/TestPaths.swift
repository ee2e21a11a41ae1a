import Foundation

/// Where the package and the public datasets beside it (`../shared/datasets`) are, for tests.
public enum TestPaths {
  /// The package's root folder (found from this file's own path, so it holds in any checkout).
  public static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// `../shared/datasets/<name>` beside the package, whether or not it is there.
  public static func sharedDataset(_ name: String) -> URL {
    packageRoot.deletingLastPathComponent().appendingPathComponent("shared/datasets/\(name)")
  }
}
