/// A flaw of the real STEDI data that the generator can reproduce, each switchable.
public enum DatasetFlaw: String, CaseIterable, Sendable, Codable {
  /// The fulfillment website's defect: a handful of serial numbers given to many customers
  /// (the original STEDI data reused 30).
  case reusedSerials = "reused-serials"
  /// A second, newer record for the same email (changed phone or name, same consent).
  case duplicateEmails = "duplicate-emails"
  /// A newer record that withdraws research consent, after some sessions.
  case withdrawnConsent = "withdrawn-consent"
  /// Consent given only after the first day of sessions, so earlier readings predate it.
  case readingsBeforeConsent = "readings-before-consent"
  /// Whole landing files delivered twice (exact duplicates under another name).
  case redeliveredBatches = "redelivered-batches"
  /// Malformed lines of every kind the quarantine knows, and files whose last line is cut.
  case malformedLines = "malformed-lines"
}

/// The tables the generator writes.
public enum DatasetTable: String, CaseIterable, Sendable, Codable {
  case customer
  case accelerometer
  case stepTrainer = "step_trainer"
  /// Ground truth: the true step events of every session (nothing in the real lake has this).
  case stepEvents = "step_events"
}
