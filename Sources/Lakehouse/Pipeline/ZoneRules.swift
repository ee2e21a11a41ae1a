/// Which set of zone rules a run applies.
public enum PipelineProfile: String, CaseIterable, Sendable, Codable {
  /// What STEDI's privacy promise means: current consent only, no reading from before consent,
  /// step readings joined to their owner's phone readings, no email in the curated table.
  case strict
  /// Reproduces the public STEDI project rubric's row counts exactly.
  case udacity
}

/// The zone rules, defined once: every engine and check reads them from here.
///
/// A profile is a choice for each of these rules; the embedded engine executes them and the
/// quality checks assert them, so the two can never disagree about what a profile means.
public struct ZoneRules: Sendable, Equatable {
  public var profile: PipelineProfile
  /// customer_trusted keeps only each email's newest record (greatest lastUpdateDate), so a later
  /// record without consent withdraws it. Otherwise every distinct landing record with consent.
  public var currentRecordPerEmail: Bool
  /// accelerometer_trusted drops readings taken before the customer's shareWithResearchAsOfDate,
  /// and step_trainer_trusted readings taken before their owner's.
  public var readingsFromConsentDate: Bool
  /// machine_learning_curated pairs a step reading only with phone readings of a curated customer
  /// who holds that serial number; otherwise with every phone reading at the same instant.
  public var ownerAwareJoin: Bool
  /// machine_learning_curated carries the email in `user` (the rubric's table does; it is a
  /// direct identifier, which strict never writes).
  public var curatedIncludesEmail: Bool

  public init(profile: PipelineProfile) {
    self.profile = profile
    switch profile {
    case .strict:
      currentRecordPerEmail = true
      readingsFromConsentDate = true
      ownerAwareJoin = true
      curatedIncludesEmail = false
    case .udacity:
      currentRecordPerEmail = false
      readingsFromConsentDate = false
      ownerAwareJoin = false
      curatedIncludesEmail = true
    }
  }
}
