import Foundation

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

  /// A line that stays, `stedi: <message>` on stderr, whether or not progress is shown (above the
  /// live line on a terminal, which the next `show` redraws).
  func note(_ message: String) {
    let clear = terminal && !lines ? "\r\u{1B}[K" : ""
    FileHandle.standardError.write(Data("\(clear)stedi: \(message)\n".utf8))
  }

  func finish() {
    guard terminal, !lines else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
  }
}
