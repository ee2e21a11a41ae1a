/// Why a request was refused: the HTTP status with the JSON error body (`IngestErrorBody`).
///
/// The service throws it; the client (`IngestClient`) rebuilds it from an answer's status and body.
public struct IngestRejection: Error, Sendable, Equatable, CustomStringConvertible {
  /// The HTTP status: 400 bad input, 401 no valid token, 403 someone else's data, 413 too large,
  /// 503 buffers full.
  public var status: Int
  /// A short label for metrics (`invalid_json`, `missing_field`, `wrong_serial`, ...).
  public var reason: String
  /// What was wrong, in words (the body's `error`).
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

  /// The rejection an answer with `status` and `body` carries.
  public init(status: Int, body: IngestErrorBody) {
    self.init(
      status: status, reason: body.reason, message: body.error, line: body.line, record: body.record,
      field: body.field)
  }

  public var description: String {
    var text = "\(status) \(reason): \(message)"
    if let line { text += " (line \(line)" + (field.map { ", field '\($0)'" } ?? "") + ")" }
    return text
  }

  /// The response body: `{"error":…,"field":…,"line":…,"reason":…,"record":…}` (see `IngestErrorBody`).
  public var body: IngestErrorBody {
    IngestErrorBody(error: message, reason: reason, line: line, record: record, field: field)
  }

  /// The response body as JSON text.
  public var json: String { IngestJSON.string(body) }
}
