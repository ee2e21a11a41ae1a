/// Why a landing line was quarantined instead of accepted.
public enum QuarantineReason: String, Sendable, Codable, CaseIterable, Comparable {
  case invalidJSON = "invalid_json"
  case truncated = "truncated"
  case invalidUTF8 = "invalid_utf8"
  case notAnObject = "not_an_object"
  case missingField = "missing_field"
  case wrongType = "wrong_type"
  case duplicateField = "duplicate_field"

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
