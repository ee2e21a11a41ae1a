/// What a generated lake contains, flaw by flaw, and what the strict pipeline must make of it.
public struct GenerationManifest: Sendable, Equatable, Codable {
  public var seed: UInt64
  public var customers: Int
  public var days: Int
  public var quantised: Bool
  public var flaws: [String]
  /// Valid lines written per table, re-delivered copies included.
  public var rows: [String: Int] = [:]
  /// Deliberately malformed lines per table and quarantine reason, re-delivered copies included.
  public var malformed: [String: [String: Int]] = [:]
  /// Landing files delivered a second time, and the lines in them.
  public var redeliveredFiles = 0
  public var redeliveredRows: [String: Int] = [:]
  /// Serial numbers shared by several customers, and how many customers hold one.
  public var reusedSerials = 0
  public var customersOnReusedSerials = 0
  public var duplicateEmailRecords = 0
  public var withdrawals = 0
  public var lateConsents = 0
  /// Readings of consenting customers taken before their consent date, per table (as generated,
  /// re-delivered copies not counted).
  public var readingsBeforeConsent: [String: Int] = [:]
  /// The row counts the strict profile must produce. Step-trainer and curated counts are only
  /// stated when no serial number is reused (reuse makes them depend on other customers).
  public var expectedStrict: [String: Int] = [:]

  public init(seed: UInt64, customers: Int, days: Int, quantised: Bool, flaws: [String]) {
    self.seed = seed
    self.customers = customers
    self.days = days
    self.quantised = quantised
    self.flaws = flaws
  }

  /// Adds another batch's counts.
  public mutating func add(_ other: GenerationManifest) {
    func merge(_ left: inout [String: Int], _ right: [String: Int]) {
      for (key, value) in right { left[key, default: 0] += value }
    }
    merge(&rows, other.rows)
    for (table, reasons) in other.malformed { merge(&malformed[table, default: [:]], reasons) }
    redeliveredFiles += other.redeliveredFiles
    merge(&redeliveredRows, other.redeliveredRows)
    customersOnReusedSerials += other.customersOnReusedSerials
    duplicateEmailRecords += other.duplicateEmailRecords
    withdrawals += other.withdrawals
    lateConsents += other.lateConsents
    merge(&readingsBeforeConsent, other.readingsBeforeConsent)
    merge(&expectedStrict, other.expectedStrict)
  }
}
