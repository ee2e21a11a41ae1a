import ArgumentParser
import Foundation
import Lakehouse

/// The options every command that reads a lake shares.
struct LakeOptions: ParsableArguments {
  @Option(help: "The lake folder (customer/landing, accelerometer/landing, step_trainer/landing inside).")
  var lake: String

  @Option(
    help: ArgumentHelp(
      "The pseudonym key file (64 hex digits); created on first use.",
      discussion: "Defaults to $STEDI_PSEUDONYM_KEY_FILE, else <lake>/_stedi/pseudonym.key."))
  var keyFile: String?

  func openLake() throws -> Lake {
    try runReportingLakeErrors { try Lake(root: lake) }
  }

  func pseudonymKey(for lake: Lake) throws -> PseudonymKey {
    let path =
      keyFile ?? ProcessInfo.processInfo.environment["STEDI_PSEUDONYM_KEY_FILE"] ?? PseudonymKey.defaultPath(in: lake)
    return try runReportingLakeErrors { try PseudonymKey.loadOrCreate(at: path) }
  }
}

/// Runs `body`, turning a lake error into a one-line message on stderr and exit code 2.
func runReportingLakeErrors<Result>(_ body: () throws -> Result) throws -> Result {
  do {
    return try body()
  } catch let error as LakeError {
    FileHandle.standardError.write(Data("stedi: error: \(error.description)\n".utf8))
    throw ExitCode(2)
  }
}

/// Progress on stderr: one rewritten line when stderr is a terminal, or with `STEDI_PROGRESS=lines`
/// one timestamped line per step (for logs and for finding where the time goes).
final class TerminalProgress: Sendable {
  let terminal = isatty(STDERR_FILENO) == 1
  let lines = ProcessInfo.processInfo.environment["STEDI_PROGRESS"] == "lines"
  let started = ContinuousClock.now

  /// Whether anything is shown at all (a terminal, or `STEDI_PROGRESS=lines`).
  var isVisible: Bool { terminal || lines }

  func show(_ message: String) {
    if lines {
      let elapsed = (ContinuousClock.now - started).components
      let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
      FileHandle.standardError.write(Data("[\(String(format: "%7.3f", seconds))s] \(message)\n".utf8))
    } else if terminal {
      FileHandle.standardError.write(Data("\r\u{1B}[K\(message)".utf8))
    }
  }

  func finish() {
    guard terminal, !lines else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
  }
}
