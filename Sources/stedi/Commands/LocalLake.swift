import Foundation
import Lakehouse

/// Runs `body` on the lake named by `location` as a local folder (`LakeWorkingCopy`): a folder as
/// it is, an S3 lake through a working copy pulled first and, when `publish` is set, pushed back.
func withLocalLake<Result>(
  _ location: StorageOptions, work: String?, progress: TerminalProgress, publish: Bool,
  _ body: (Lake) async throws -> Result
) async throws -> Result {
  let storage = try location.storage()
  let copy = try await CommandFailure.reporting {
    try await LakeWorkingCopy.open(storage, workFolder: location.workingCopyFolder(work), progress: progress.show)
  }
  let result = try await body(copy.lake)
  if publish { try await CommandFailure.reporting { try await copy.publish(progress: progress.show) } }
  return result
}
