import Dispatch
import Foundation

/// Calls `onStop` on SIGINT or SIGTERM instead of letting them kill the process, so a long-running
/// command can commit its work and exit cleanly.
final class StopSignals {
  private let sources: [any DispatchSourceSignal]

  init(onStop: @escaping @Sendable () -> Void) {
    sources = [SIGINT, SIGTERM].map { number in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler(handler: onStop)
      source.resume()
      return source
    }
  }

  /// Restores the default handling.
  func cancel() {
    for source in sources { source.cancel() }
    signal(SIGINT, SIG_DFL)
    signal(SIGTERM, SIG_DFL)
  }
}
