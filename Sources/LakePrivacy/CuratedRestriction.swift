import Foundation
import LakeStorage
import Lakehouse

/// What the curated customers left after an erasure allow in step_trainer_trusted and
/// machine_learning_curated: the same rules the pipeline applies, so an erasure leaves these
/// tables exactly as a fresh run without the customer would.
///
/// A serial number shared with others keeps its readings from the earliest remaining owner's
/// consent on (the erased customer's earlier consent no longer counts); machine_learning_curated
/// keeps rows whose subject is still a curated customer and whose step reading is still allowed.
struct CuratedRestriction: Sendable {
  /// subjectIds of the curated customers that remain.
  var subjects: Set<String>
  /// Per serial number (canonical) held by a remaining curated customer, the first instant its readings are allowed.
  var allowedFrom: [String: Int64]
  /// subjectIds of the curated customers the erasure takes away: their curated rows all go.
  var removedSubjects: [String] = []
  /// Serial numbers of those customers: the only ones whose step readings may change.
  var affectedSerials: Set<String> = []

  /// The restriction for the lake's current customers_curated without the customers `matcher`
  /// picks; nil when the lake has no curated customers table (the pipeline never ran).
  static func load(
    storage: any LakeStorage, zone: LakeZoneObjects, matcher: ErasureMatcher, pseudonymKey: PseudonymKey?,
    spellings: Set<String> = []
  ) async throws -> CuratedRestriction? {
    guard zone.has(.customersCurated) else { return nil }
    var key = pseudonymKey
    if key == nil, zone.has(.machineLearningCurated) {
      guard let bytes = try await SecretKeyFile.load(storage: storage, key: "_stedi/pseudonym.key", create: false)
      else {
        throw StorageError.invalidObject(
          key: "_stedi/pseudonym.key",
          reason: "missing: machine_learning_curated cannot be searched for the customer's subjectId without it"
            + " (pass --key-file if the key is kept outside the lake)")
      }
      key = PseudonymKey(bytes: bytes)
    }
    // Without a record of the last run's rules, no consent date is applied: rows are removed
    // only for lost ownership, never for a rule the lake may not have been built with.
    let fromConsentDate = try await lastProfile(storage: storage).map { ZoneRules(profile: $0).readingsFromConsentDate }
    var matcher = matcher
    var restriction = CuratedRestriction(subjects: [], allowedFrom: [:])
    // NDJSON lines or the current version's Parquet rows rendered as those lines.
    try await zone.forEachRecordLine(of: [.customersCurated], storage: storage) { line in
      guard let customer = try? CustomerRecord.decode(line) else { return }
      if matcher.isErased(email: customer.email) {
        if let key { restriction.removedSubjects.append(key.subjectId(email: customer.email)) }
        restriction.affectedSerials.insert(Identity.canonical(customer.serialNumber))
        return
      }
      if let key { restriction.subjects.insert(key.subjectId(email: customer.email)) }
      let from = fromConsentDate == true ? (customer.shareWithResearchAsOfDate ?? .max) : .min
      let serial = Identity.canonical(customer.serialNumber)
      restriction.allowedFrom[serial] = min(restriction.allowedFrom[serial] ?? .max, from)
    }
    // Their subjectIds even when customers_curated no longer lists them (a table restored from
    // a backup after an earlier erasure still goes).
    if let key { restriction.removedSubjects += spellings.map { key.subjectId(email: $0) } }
    restriction.removedSubjects = Array(Set(restriction.removedSubjects)).sorted()
    // As the pipeline: a learned serial that a remaining curated customer holds is shared.
    for (serial, from) in restriction.allowedFrom where !matcher.isLearned(serialNumber: serial) {
      if let cutoff = matcher.cutoff(serialNumber: serial) {
        restriction.allowedFrom[serial] = max(from, cutoff == .max ? .max : cutoff + 1)
      }
    }
    return restriction
  }

  /// Whether a step reading of `serial` at `time` may stay.
  func allows(serial: String, time: Int64) -> Bool {
    guard let from = allowedFrom[Identity.canonical(serial)] else { return false }
    return time >= from
  }

  /// The profile of the last pipeline run, from the lake's metadata.
  static func lastProfile(storage: any LakeStorage) async throws -> PipelineProfile? {
    let bytes: [UInt8]
    do {
      bytes = try await storage.get(RunRecord.object)
    } catch StorageError.notFound(_, _) {
      return nil
    }
    return RunRecord.decode(bytes)?.profile
  }
}
