/// Chooses customer_trusted from the landing customers under the rules.
package enum CustomerSelection {
  /// The trusted customers, sorted canonically (by email first) and distinct.
  package static func trusted(_ landing: [CustomerRecord], rules: ZoneRules) -> [CustomerRecord] {
    if !rules.currentRecordPerEmail {
      var trusted = landing.filter { $0.shareWithResearchAsOfDate != nil }
      trusted.sortDistinct(by: CustomerRecord.canonicalOrder, equal: ==)
      return trusted
    }
    // Per email the newest record is current. On a tie in lastUpdateDate, a record without
    // consent wins (withdrawal must not depend on file order), then the greatest canonical record.
    var current: [String: CustomerRecord] = [:]
    current.reserveCapacity(landing.count)
    // Keyed by the canonical identity: every spelling of one email is one customer.
    for record in landing {
      let identity = Identity.canonical(record.email)
      guard let existing = current[identity] else {
        current[identity] = record
        continue
      }
      if supersedes(record, existing) { current[identity] = record }
    }
    return current.values.filter { $0.shareWithResearchAsOfDate != nil }.sorted(by: CustomerRecord.canonicalOrder)
  }

  /// Whether `candidate` replaces `existing` as the email's current record.
  package static func supersedes(_ candidate: CustomerRecord, _ existing: CustomerRecord) -> Bool {
    if candidate.lastUpdateDate != existing.lastUpdateDate { return candidate.lastUpdateDate > existing.lastUpdateDate }
    let candidateConsents = candidate.shareWithResearchAsOfDate != nil
    let existingConsents = existing.shareWithResearchAsOfDate != nil
    if candidateConsents != existingConsents { return !candidateConsents }
    return CustomerRecord.canonicalOrder(existing, candidate)
  }
}
