/// One failed quality assertion: which check, on which table, and an example.
public struct QualityFinding: Sendable, Equatable, CustomStringConvertible {
  /// The assertion's name, e.g. `unique`, `not_null`, `consent`.
  public var check: String
  public var table: String
  public var message: String

  public init(check: String, table: String, message: String) {
    self.check = check
    self.table = table
    self.message = message
  }

  public var description: String { "\(table): \(check): \(message)" }
}
