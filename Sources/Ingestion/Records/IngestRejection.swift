import Lakehouse

/// Why a request was refused, as the sender sees it in the JSON error body.
public struct IngestRejection: Error, Sendable, Equatable, CustomStringConvertible {
  /// The HTTP status: 400 bad input, 401 no valid token, 403 someone else's data, 413 too large,
  /// 503 buffers full.
  public var status: Int
  /// A short label for metrics (`invalid_json`, `missing_field`, `wrong_serial`, ...).
  public var reason: String
  /// What was wrong, in words.
  public var message: String
  /// The 1-based line of the body where the offending record starts.
  public var line: Int?
  /// The 1-based position of the offending record in the body.
  public var record: Int?
  /// The field at fault, when there is one.
  public var field: String?

  /// A rejection.
  public init(
    status: Int, reason: String, message: String, line: Int? = nil, record: Int? = nil, field: String? = nil
  ) {
    self.status = status
    self.reason = reason
    self.message = message
    self.line = line
    self.record = record
    self.field = field
  }

  public var description: String {
    var text = "\(status) \(reason): \(message)"
    if let line { text += " (line \(line)" + (field.map { ", field '\($0)'" } ?? "") + ")" }
    return text
  }

  /// The response body: `{"error": ..., "reason": ..., "line": ..., "record": ..., "field": ...}`.
  public var json: String {
    var text = #"{"error":\#(quoted(message)),"reason":\#(quoted(reason))"#
    if let line { text += #","line":\#(line)"# }
    if let record { text += #","record":\#(record)"# }
    if let field { text += #","field":\#(quoted(field))"# }
    return text + "}"
  }

  private func quoted(_ text: String) -> String {
    String(decoding: NDJSONBuffer.quoted(text), as: UTF8.self)
  }
}
