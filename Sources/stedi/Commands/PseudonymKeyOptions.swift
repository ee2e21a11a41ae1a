import ArgumentParser
import Foundation
import LakeStorage
import Lakehouse

/// The pseudonym key option every command that reads subjectIds shares.
struct PseudonymKeyOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "The pseudonym key file (64 hex digits), when it is kept outside the lake.",
      discussion: """
        Defaults to $STEDI_PSEUDONYM_KEY_FILE, else the lake's _stedi/pseudonym.key. Only a \
        pipeline run creates a key (the lake's own, on its first run); other commands never do.
        """))
  var keyFile: String?

  /// The file named by the option or the environment, if any.
  private var namedPath: String? {
    keyFile ?? ProcessInfo.processInfo.environment["STEDI_PSEUDONYM_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
  }

  /// For a pipeline run on `lake`: the named key, else the lake's own, created on first use.
  func keyForRun(on lake: Lake) throws -> PseudonymKey {
    let path = namedPath ?? PseudonymKey.defaultPath(in: lake)
    return try CommandFailure.reporting { try PseudonymKey.loadOrCreate(at: path) }
  }

  /// The named key, which must exist; nil when none is named (the lake's own is then used).
  func namedKey() async throws -> PseudonymKey? {
    guard let path = namedPath else { return nil }
    // A key named explicitly but missing is a mistake to report, not an absent key to work around.
    let folder = (path as NSString).deletingLastPathComponent
    let file = FileSystemStorage(root: folder.isEmpty ? "." : folder)
    let bytes = try await CommandFailure.reporting {
      try await SecretKeyFile.load(storage: file, key: (path as NSString).lastPathComponent, create: false)
    }
    guard let bytes else { throw CommandFailure.report("no pseudonym key file at \(path)") }
    return PseudonymKey(bytes: bytes)
  }
}
