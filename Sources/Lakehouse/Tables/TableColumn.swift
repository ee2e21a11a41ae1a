/// A column of a lake table: its name, its type, and whether a row must have it.
public struct TableColumn: Sendable, Equatable {
  /// A column's value type, as every engine that reads the lake holds it.
  public enum Kind: Sendable, Hashable {
    /// A whole number: epoch milliseconds (`sensorReadingTime`, `timestamp`, the consent dates).
    case int64
    /// A floating-point number: `x`, `y`, `z`, `distanceFromObject`.
    case double
    /// UTF-8 text.
    case string
  }

  public var name: String
  public var kind: Kind
  /// A landing row without a value here is quarantined; a zone row always has one.
  public var required: Bool
  /// The value names or reaches a person directly (an email, a name, a phone number, a birthday):
  /// such a column may never appear in machine_learning_curated, and the audit looks for it there.
  public var identifiesPerson: Bool

  public init(_ name: String, _ kind: Kind, required: Bool, identifiesPerson: Bool = false) {
    self.name = name
    self.kind = kind
    self.required = required
    self.identifiesPerson = identifiesPerson
  }
}
