/// Why a landing line was quarantined instead of accepted.
public enum QuarantineReason: String, Sendable, Codable, CaseIterable, Comparable {
  case invalidJSON = "invalid_json"
  case truncated = "truncated"
  case invalidUTF8 = "invalid_utf8"
  case notAnObject = "not_an_object"
  case missingField = "missing_field"
  case wrongType = "wrong_type"
  case duplicateField = "duplicate_field"
  /// The value has the right JSON type but not a usable form (a blank email, one without a domain).
  case invalidValue = "invalid_value"
  /// A time before 2000 or more than a day after the clock of the run or request.
  case outOfRange = "out_of_range"
  /// A landing entry named like a table file that is a FIFO, socket or device: never opened.
  case notARegularFile = "not_a_regular_file"

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A line that could not become a record: the reason category and a human-readable detail.
public struct RecordError: Error, Sendable, Equatable {
  /// The category, used for counting in the funnel.
  public var reason: QuarantineReason
  /// What exactly was wrong, for the engineer reading the quarantine.
  public var detail: String
  /// The field at fault, when the line is valid JSON but one field breaks the schema.
  public var field: String?

  public init(_ reason: QuarantineReason, _ detail: String, field: String? = nil) {
    self.reason = reason
    self.detail = detail
    self.field = field
  }
}
