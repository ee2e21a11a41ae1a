import Lakehouse

// A finding never carries the personal data itself (no email, no name, no serial number): the
// report goes to an auditor, who must be able to check the lake without seeing whose data it is.

/// One breach of STEDI's privacy promise: which rule, in which table, how many rows, and where the first is.
public struct ComplianceFinding: Sendable, Hashable, Codable {
  /// The rule a finding breaks.
  public enum Check: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Rows of a customer without current research consent.
    case consent
    /// Readings taken before their customer consented.
    case beforeConsent = "before_consent"
    /// Emails or other direct identifiers in machine_learning_curated.
    case directIdentifier = "direct_identifier"
    /// Records of an erased customer.
    case erasedCustomer = "erased_customer"
    /// Quarantined lines kept longer than the retention limit.
    case quarantineRetention = "quarantine_retention"
    /// Rows of a trusted or curated table that are not records of that table, so no rule can be judged on them.
    case unreadable

    public static func < (lhs: Check, rhs: Check) -> Bool {
      allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
  }

  /// A line of a lake object (1-based).
  public struct Location: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The object's key, relative to the lake root.
    public var file: String
    /// The 1-based line number.
    public var line: Int

    /// A location.
    public init(file: String, line: Int) {
      self.file = file
      self.line = line
    }

    public var description: String { "\(file):\(line)" }
  }

  /// The rule broken.
  public var check: Check
  /// The table or file area (`customer_trusted`, `customer_landing`, `accelerometer_quarantine`).
  public var table: String
  /// How many rows break it there.
  public var count: Int
  /// The first offending row.
  public var example: Location
  /// What exactly is wrong, in words that name no person.
  public var detail: String

  /// A finding.
  public init(check: Check, table: String, count: Int, example: Location, detail: String) {
    self.check = check
    self.table = table
    self.count = count
    self.example = example
    self.detail = detail
  }
}
