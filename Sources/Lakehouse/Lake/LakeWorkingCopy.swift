import LakeStorage

// Every command reaches a lake through `LakeStorage`, folder or S3 alike. The embedded engine
// reads landing with parallel file reads and publishes with rename, which need a local folder:
// this is where a storage becomes one, so no command has to know which kind of lake it was given.

/// A lake as a local folder the embedded engine runs on: a folder lake itself, or a working copy
/// of an object-storage lake, pulled first and pushed back after a run.
public struct LakeWorkingCopy: Sendable {
  /// The local folder's layout.
  public let lake: Lake
  private let mirror: LakeMirror?
  private let snapshot: LakeMirror.Snapshot?

  /// The local folder of `storage`: the folder itself, or for object storage a working copy in
  /// `workFolder` (landing files already there are not downloaded again).
  public static func open(
    _ storage: any LakeStorage, workFolder: @autoclosure () -> String, progress: (String) -> Void = { _ in }
  ) async throws -> LakeWorkingCopy {
    if let folder = storage as? FileSystemStorage {
      return LakeWorkingCopy(lake: try Lake(root: folder.root), mirror: nil, snapshot: nil)
    }
    let work = workFolder()
    let mirror = LakeMirror(storage: storage, localRoot: work, rules: .stediLake)
    progress("pulling the lake into \(work)")
    let snapshot = try await mirror.pull()
    progress(
      "pulled \(snapshot.downloaded) objects (\(snapshot.downloadedBytes) bytes), \(snapshot.reused) landing files cached"
    )
    return LakeWorkingCopy(lake: try Lake(root: work), mirror: mirror, snapshot: snapshot)
  }

  /// Uploads what a run wrote in the working copy (tables, quarantine, metadata); nothing for a folder lake.
  public func publish(progress: (String) -> Void = { _ in }) async throws {
    guard let mirror, let snapshot else { return }
    progress("pushing the tables")
    let pushed = try await mirror.push(since: snapshot)
    progress("pushed \(pushed.uploaded) objects (\(pushed.uploadedBytes) bytes), deleted \(pushed.deleted)")
  }
}
