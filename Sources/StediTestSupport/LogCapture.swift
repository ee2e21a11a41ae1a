import InMemoryLogging
import Logging

/// A `Logger` at trace level whose every entry is kept in memory, for tests of what is (never) logged.
public struct LogCapture: Sendable {
  /// Where the entries go.
  public let handler: InMemoryLogHandler
  /// A logger at trace level writing to `handler`.
  public let logger: Logger

  /// A capture whose logger has `label`.
  public init(label: String = "stedi.test") {
    let handler = InMemoryLogHandler()
    self.handler = handler
    var logger = Logger(label: label) { _ in handler }
    logger.logLevel = .trace
    self.logger = logger
  }

  /// Every entry so far as one line of text: level, message, metadata and error.
  public var lines: [String] {
    handler.entries.map { entry in
      "\(entry.level) \(entry.message) \(entry.metadata) \(entry.error.map { "\($0)" } ?? "")"
    }
  }
}
