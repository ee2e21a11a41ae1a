import Lakehouse

// Per email the newest landing record is current (on a tie a record without consent wins), the
// same selection the strict pipeline makes, so the audit and the pipeline cannot disagree about
// who consents. Lookups take bytes, since tables hold millions of rows.

/// Who consents to research now, by STEDI's strict rules, and from when.
struct CurrentConsent {
  private var emails = ByteStringTable()
  private var emailFrom: [Int64] = []
  private var serials = ByteStringTable()
  private var serialFrom: [Int64] = []
  private var subjects = ByteStringTable()
  private var subjectFrom: [Int64] = []

  /// Nobody consents.
  init() {}

  /// The consent of the landing customers; subject ids are known only with the pseudonym key.
  init(landing: [CustomerRecord], key: PseudonymKey?) {
    let consenting = CustomerSelection.trusted(landing, rules: ZoneRules(profile: .strict))
    emails = ByteStringTable(expectedCount: consenting.count)
    serials = ByteStringTable(expectedCount: consenting.count)
    subjects = ByteStringTable(expectedCount: key == nil ? 0 : consenting.count)
    for customer in consenting {
      // Strict selection keeps only records with a consent date.
      let from = customer.shareWithResearchAsOfDate!
      Self.add(customer.email, from: from, to: &emails, &emailFrom)
      // A serial may be shared (the fulfillment defect): its readings are allowed from the
      // earliest consent among its consenting holders.
      Self.add(customer.serialNumber, from: from, to: &serials, &serialFrom)
      if let key { Self.addExact(key.subjectId(email: customer.email), from: from, to: &subjects, &subjectFrom) }
    }
  }

  /// Adds a subject id, which is compared exactly (it is a hex digest, not an identity).
  private static func addExact(_ name: String, from: Int64, to table: inout ByteStringTable, _ dates: inout [Int64]) {
    let id = Int(table.insert(name))
    if id == dates.count { dates.append(from) } else { dates[id] = min(dates[id], from) }
  }

  /// Adds an email or serial number under its canonical identity.
  private static func add(_ name: String, from: Int64, to table: inout ByteStringTable, _ dates: inout [Int64]) {
    // The table compares bytes at a base address an empty name may not have: an empty serial
    // number holds no consent here (its readings are then reported, never silently passed).
    guard !name.isEmpty else { return }
    let id = Int(table.insert(identity: name))
    if id == dates.count { dates.append(from) } else { dates[id] = min(dates[id], from) }
  }

  /// How many customers consent now.
  var count: Int { emails.count }

  /// When the customer with `email` consented, or nil if they do not consent now.
  func from(email: UnsafeRawBufferPointer) -> Int64? {
    email.isEmpty ? nil : emails.id(ofIdentity: email).map { emailFrom[Int($0)] }
  }

  /// When the customer with `email` consented, or nil if they do not consent now.
  func from(email: String) -> Int64? { email.isEmpty ? nil : emails.id(ofIdentity: email).map { emailFrom[Int($0)] } }

  /// The earliest consent among the consenting holders of `serial`, or nil if none consents now.
  func from(serial: UnsafeRawBufferPointer) -> Int64? {
    serial.isEmpty ? nil : serials.id(ofIdentity: serial).map { serialFrom[Int($0)] }
  }

  /// When the subject consented, or nil if the id is no consenting customer's pseudonym.
  func from(subjectId: UnsafeRawBufferPointer) -> Int64? {
    subjectId.isEmpty ? nil : subjects.id(of: subjectId).map { subjectFrom[Int($0)] }
  }
}
