import ArgumentParser
import Foundation
import LakeStorage
import Lakehouse

/// Runs `body` on the lake named by `options`: a folder as it is, or an S3 lake through a local
/// working copy that is pulled first and, when `publish` is set, pushed back afterwards.
func withLocalLake<Result>(
  _ options: LakeOptions, _ s3: S3ConnectionOptions, work: String?, progress: TerminalProgress, publish: Bool,
  _ body: (Lake) throws -> Result
) async throws -> Result {
  guard options.lake.hasPrefix("s3://") else { return try body(try options.openLake()) }
  let storage = try s3.storage(url: options.lake)
  let folder = work ?? defaultWorkingCopy(for: options.lake)
  let mirror = LakeMirror(storage: storage, localRoot: folder, rules: .stediLake)
  progress.show("pulling \(options.lake) into \(folder)")
  let snapshot = try await runReportingStorageErrors { try await mirror.pull() }
  progress.show(
    "pulled \(snapshot.downloaded) objects (\(snapshot.downloadedBytes) bytes), \(snapshot.reused) landing files cached"
  )
  var local = options
  local.lake = folder
  let result = try body(try local.openLake())
  if publish {
    progress.show("pushing the tables to \(options.lake)")
    let pushed = try await runReportingStorageErrors { try await mirror.push(since: snapshot) }
    progress.show("pushed \(pushed.uploaded) objects (\(pushed.uploadedBytes) bytes), deleted \(pushed.deleted)")
  }
  return result
}

/// `~/.cache/stedi/s3/<bucket>/<prefix>` (or under $XDG_CACHE_HOME).
private func defaultWorkingCopy(for url: String) -> String {
  let environment = ProcessInfo.processInfo.environment
  let cache = environment["XDG_CACHE_HOME"] ?? "\(NSHomeDirectory())/.cache"
  let path = url.dropFirst("s3://".count).split(separator: "/").joined(separator: "/")
  return "\(cache)/stedi/s3/\(path)"
}
