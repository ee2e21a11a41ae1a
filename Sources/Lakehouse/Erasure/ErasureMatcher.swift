/// Tells whether a record belongs to an erased customer, from the erasure list's keyed hashes.
///
/// Hashes are cached per distinct email and serial number (and the last one seen is compared
/// first, since landing files hold long runs of one customer's readings), so a lake with
/// millions of readings costs one HMAC per customer, not per line.
public struct ErasureMatcher: Sendable {
  private let key: ErasureKey?
  /// Per subject hash, when the customer was erased.
  private let subjects: [String: Int64]
  private var serialCutoffs: [String: Int64]
  /// Hashes of serial numbers only ever learned after an erasure (see `ErasedSerial.learned`).
  private var learnedSerials: Set<String>
  private var emailCache: [String: Bool] = [:]
  private var serialCache: [String: Int64?] = [:]
  private var lastEmail: [UInt8] = []
  private var lastEmailErased = false
  private var lastSerial: [UInt8] = []
  private var lastSerialCutoff: Int64?
  private var scratch: [UInt8] = []

  /// A matcher for every entry of `list`; `key` may be nil only when the list is empty.
  public init(list: ErasureList, key: ErasureKey?) {
    self.key = key
    subjects = Dictionary(list.entries.map { ($0.subject, $0.erasedAt) }, uniquingKeysWith: min)
    var cutoffs: [String: Int64] = [:]
    var learned: Set<String> = []
    var known: Set<String> = []
    for entry in list.entries {
      for serial in entry.serials {
        cutoffs[serial.hash] = max(cutoffs[serial.hash] ?? .min, serial.until)
        if serial.learned == true { learned.insert(serial.hash) } else { known.insert(serial.hash) }
      }
    }
    serialCutoffs = cutoffs
    learnedSerials = learned.subtracting(known)
  }

  /// A matcher that matches nothing.
  public static let none = ErasureMatcher(list: ErasureList(), key: nil)

  /// Whether the list is empty, so that callers can skip matching altogether.
  public var isEmpty: Bool { subjects.isEmpty && serialCutoffs.isEmpty }

  /// Whether `email` belongs to an erased customer.
  public mutating func isErased(email: String) -> Bool {
    guard let key, !subjects.isEmpty else { return false }
    if let known = emailCache[email] { return known }
    let erased = subjects[key.hash(email: email)] != nil
    emailCache[email] = erased
    return erased
  }

  /// Whether the email in `bytes` (UTF-8) belongs to an erased customer.
  public mutating func isErased(email bytes: UnsafeRawBufferPointer) -> Bool {
    guard !subjects.isEmpty else { return false }
    if bytes.elementsEqual(lastEmail) { return lastEmailErased }
    lastEmail = Array(bytes)
    lastEmailErased = isErased(email: String(decoding: bytes, as: UTF8.self))
    return lastEmailErased
  }

  /// The instant up to which readings of `serialNumber` belong to an erased customer, or nil.
  public mutating func cutoff(serialNumber: String) -> Int64? {
    guard let key, !serialCutoffs.isEmpty else { return nil }
    if let known = serialCache[serialNumber] { return known }
    let cutoff = serialCutoffs[key.hash(serialNumber: serialNumber)]
    serialCache[serialNumber] = cutoff
    return cutoff
  }

  /// Whether `serialNumber` is on the list only as learned after an erasure, so that its cutoff
  /// applies only while no other customer holds it.
  public func isLearned(serialNumber: String) -> Bool {
    guard let key, !learnedSerials.isEmpty else { return false }
    return learnedSerials.contains(key.hash(serialNumber: serialNumber))
  }

  /// Adds the serial number of an erased customer's record found after their erasure, in memory
  /// (`ErasureList.learn` keeps it); true when it was new.
  @discardableResult
  public mutating func learn(serialNumber: String, ofEmail email: String) -> Bool {
    guard let key, let erasedAt = subjects[key.hash(email: email)], !Identity.canonical(serialNumber).isEmpty else {
      return false
    }
    let hash = key.hash(serialNumber: serialNumber)
    guard serialCutoffs[hash] == nil else { return false }
    serialCutoffs[hash] = erasedAt
    learnedSerials.insert(hash)
    serialCache = [:]
    lastSerial = []
    return true
  }

  /// Whether a step-trainer reading of `serialNumber` taken at `time` belongs to an erased customer.
  public mutating func isErased(serialNumber: String, time: Int64) -> Bool {
    guard let cutoff = cutoff(serialNumber: serialNumber) else { return false }
    return time <= cutoff
  }

  /// Whether a step-trainer reading of the serial number in `bytes` taken at `time` belongs to an erased customer.
  public mutating func isErased(serialNumber bytes: UnsafeRawBufferPointer, time: Int64) -> Bool {
    guard !serialCutoffs.isEmpty else { return false }
    if !bytes.elementsEqual(lastSerial) {
      lastSerial = Array(bytes)
      lastSerialCutoff = cutoff(serialNumber: String(decoding: bytes, as: UTF8.self))
    }
    guard let cutoff = lastSerialCutoff else { return false }
    return time <= cutoff
  }

  /// Whether a landing line of `source` is a record of an erased customer; a line that is no
  /// record of its source counts when it names one anywhere.
  public mutating func isErasedRecord(_ line: UnsafeBufferPointer<UInt8>, source: LandingSource) -> Bool {
    guard !isEmpty else { return false }
    var erased = false
    // The decoders' scratch is borrowed while the callbacks update this matcher's caches.
    var scratch = self.scratch
    defer { self.scratch = scratch }
    do {
      switch source {
      case .customer:
        erased = isErased(email: try CustomerRecord.decode(line).email)
      case .accelerometer:
        try AccelerometerReading.decode(line, scratch: &scratch) { user, _, _, _, _ in erased = isErased(email: user) }
      case .stepTrainer:
        try StepTrainerReading.decode(line, scratch: &scratch) { serial, time, _ in
          erased = isErased(serialNumber: serial, time: time)
        }
      }
    } catch {
      return mentionsErased(line)
    }
    return erased
  }

  /// NDJSON of `source` without the records of erased customers (lines removed, not blanked),
  /// or nil when it holds none.
  public mutating func removingErased(from ndjson: [UInt8], source: LandingSource) -> (
    ndjson: [UInt8], removed: Int, remaining: Int
  )? {
    guard !isEmpty,
      let outcome = LineRewrite.rewrite(ndjson, keepLineNumbers: false, remove: { isErasedRecord($0, source: source) })
    else { return nil }
    return (outcome.bytes, outcome.removed, outcome.remaining)
  }

  /// The customer records of erased customers in customer NDJSON (to learn their serial numbers).
  public mutating func erasedCustomerRecords(in ndjson: [UInt8]) -> [CustomerRecord] {
    guard !isEmpty else { return [] }
    var found: [CustomerRecord] = []
    forEachLine(ndjson) { line in
      if let record = try? CustomerRecord.decode(line), isErased(email: record.email) { found.append(record) }
    }
    return found
  }

  /// Whether an unparseable line mentions an erased customer's email or serial number anywhere.
  public mutating func mentionsErased(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
    guard !isEmpty else { return false }
    var found = false
    IdentifierTokens.forEach(in: line) { token in
      guard !found else { return }
      if token.contains("@") {
        found = isErased(email: String(token))
      } else {
        found = cutoff(serialNumber: String(token)) != nil
      }
    }
    return found
  }
}
