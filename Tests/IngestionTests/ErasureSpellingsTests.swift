import Foundation
import Hummingbird
import HummingbirdTesting
import IngestAPI
import SeededRandom
import StediTestSupport
import Testing

@testable import Ingestion
@testable import LakePrivacy
@testable import Lakehouse

/// Erasure under every spelling of one identity, the ingest log included (issue 15, items 1–3).
///
/// A property test: for each seed, one customer's email and serial number appear in landing, in
/// the pipeline's tables, in quarantine and in a running ingest service's log under many
/// spellings (letter case, NFC and NFD, surrounding white space, JSON escapes, a Kelvin sign for
/// a k); the customer is erased by yet another spelling; then no file anywhere in the lake holds
/// any spelling of either identifier, and another customer's data is all still there.
@Suite struct ErasureSpellingsTests {
  /// Canonical emails with letters whose spellings differ in case and in Unicode normalization.
  static let emails = ["élise.ångström@exämple.com", "josé.kirk@x.com", "çağrı.ñandú@posta.tr", "zoë.küng@mail.ch"]

  /// The test's choices: one seeded SplitMix64 stream per seed, so a failing seed reproduces.
  typealias Choices = SplitMix64

  /// One spelling of `canonical`: each letter upper or lower case (a `k` may become the Kelvin
  /// sign, which lower-cases to `k`), NFC or NFD, with white space around it or not.
  static func spelling(of canonical: String, _ choices: inout Choices) -> String {
    var text = ""
    for character in canonical {
      if character == "k", choices.next(4) == 0 {
        text += "\u{212A}"
      } else {
        // Only capitals that fold back (a dotless ı capitalizes to I, which folds to i: another identity).
        let upper = character.uppercased()
        let folds = Identity.canonical(upper) == Identity.canonical(String(character))
        text += choices.flip() && folds ? upper : String(character)
      }
    }
    if choices.flip() { text = text.decomposedStringWithCanonicalMapping }
    let spaces = ["", " ", "  ", "\t"]
    return spaces[choices.next(spaces.count)] + text + spaces[choices.next(spaces.count)]
  }

  /// A JSON string literal of `text`, sometimes with every non-ASCII scalar as a `\u` escape.
  static func json(_ text: String, escapeAll: Bool) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20 || (escapeAll && scalar.value > 0x7E):
        for unit in String(scalar).utf16 { out += String(format: "\\u%04x", unit) }
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  static let base: Int64 = 1_700_000_000_000

  static func customer(_ email: String, serial: String, consent: Int64?, updated: Int64, escape: Bool) -> String {
    let consentText = consent.map(String.init) ?? "null"
    return
      #"{"customerName":"Test Person","email":\#(json(email, escapeAll: escape)),"phone":"555-0100","birthDay":"1990-01-01","serialNumber":\#(json(serial, escapeAll: escape)),"registrationDate":\#(base),"lastUpdateDate":\#(updated),"shareWithResearchAsOfDate":\#(consentText),"shareWithPublicAsOfDate":null,"shareWithFriendsAsOfDate":null}"#
  }

  static func reading(_ user: String, at time: Int64, escape: Bool) -> String {
    #"{"user":\#(json(user, escapeAll: escape)),"timestamp":\#(time),"x":0.5,"y":-0.25,"z":9.75}"#
  }

  static func step(_ serial: String, at time: Int64, escape: Bool) -> String {
    #"{"sensorReadingTime":\#(time),"serialNumber":\#(json(serial, escapeAll: escape)),"distanceFromObject":230}"#
  }

  static func write(_ lines: [String], to path: String) throws {
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
  }

  /// Every regular file under `root`, recursively (metadata and the ingest log included).
  static func files(under root: String) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
    var files: [String] = []
    while let relative = enumerator.nextObject() as? String {
      if enumerator.fileAttributes?[.type] as? FileAttributeType == .typeRegular { files.append(relative) }
    }
    return files.sorted()
  }

  /// Files of the lake holding a word that is a spelling of one of `identities` (canonical).
  static func filesMentioning(_ identities: Set<String>, under root: String) -> [String] {
    files(under: root).filter { relative in
      guard let bytes = FileManager.default.contents(atPath: "\(root)/\(relative)") else { return false }
      var found = false
      Array(bytes).withUnsafeBufferPointer { buffer in
        IdentifierTokens.forEach(in: buffer) { token in
          if !found, identities.contains(Identity.canonical(String(token))) { found = true }
        }
      }
      return found
    }
  }

  @Test(arguments: 0..<8)
  func erasingAnySpellingLeavesNoSpellingAnywhere(seed: Int) async throws {
    var choices = Choices(stream: seed, of: 0x5EED_5E11)
    let lake = try TemporaryLake("spellings\(seed)")
    defer { lake.remove() }
    let email = Self.emails[seed % Self.emails.count]
    let serial = "ab\(seed)c-serial-\(seed)d-kelvin"
    let otherEmail = "other.person\(seed)@x.com"
    let otherSerial = "other-serial-\(seed)"
    func spell() -> String { Self.spelling(of: email, &choices) }
    func spellSerial() -> String { Self.spelling(of: serial, &choices) }

    // Landing: customer records under two spellings (the later one consents), readings under
    // several, the device's readings, a malformed line naming the customer, and the control.
    let t = Self.base
    try Self.write(
      [
        Self.customer(spell(), serial: spellSerial(), consent: t, updated: t + 1, escape: choices.flip()),
        Self.customer(spell(), serial: serial, consent: t, updated: t + 2, escape: choices.flip()),
        Self.customer(otherEmail, serial: otherSerial, consent: t, updated: t + 1, escape: false),
      ], to: "\(lake.root)/customer/landing/customers.json")
    var readings: [String] = []
    var steps: [String] = []
    for index in 0..<12 {
      let time = t + 10 + Int64(index) * 100
      readings.append(Self.reading(spell(), at: time, escape: choices.flip()))
      readings.append(Self.reading(otherEmail, at: time, escape: false))
      steps.append(Self.step(index % 3 == 0 ? spellSerial() : serial, at: time, escape: choices.flip()))
      steps.append(Self.step(otherSerial, at: time, escape: false))
    }
    readings.append(#"{"user":\#(Self.json(spell(), escapeAll: choices.flip())),"timestamp":"not a time","x":1}"#)
    try Self.write(readings, to: "\(lake.root)/accelerometer/landing/readings.json")
    try Self.write(steps, to: "\(lake.root)/step_trainer/landing/steps.json")

    // The pipeline treats every spelling as one customer: their readings reach the tables.
    let pipelineLake = try Lake(root: lake.root)
    let key = PseudonymKey(bytes: Array(repeating: 42, count: 32))
    let first = try await ZonePipeline(lake: pipelineLake, rules: ZoneRules(profile: .strict), key: key).run()
    #expect(first.tableRows[.customerTrusted] == 2)
    #expect(first.tableRows[.accelerometerTrusted] == 24)
    #expect(first.tableRows[.machineLearningCurated] == 24)
    #expect(Self.filesMentioning([email], under: "\(lake.root)/accelerometer/trusted").count == 1)

    // A running service holds more of them in its log, not landed yet (a new device among them).
    let (ingestor, _) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder,
      limits: BatchLimits(maxRecords: 1_000_000, maxBytes: 64 << 20, maxAge: .seconds(3600)))
    let newSerial = "late-serial-\(seed)"
    let admin = AccessToken(role: .admin, subject: "admin", expiresAt: Int64(Date().timeIntervalSince1970) + 3600)
    for (text, source) in [
      (Self.customer(spell(), serial: newSerial, consent: t, updated: t + 3, escape: choices.flip()), .customer),
      (
        (0..<5).map { Self.reading(spell(), at: t + 5000 + Int64($0), escape: false) }.joined(separator: "\n"),
        .accelerometer
      ),
      (
        (0..<5).map { Self.step(newSerial, at: t + 5000 + Int64($0), escape: false) }.joined(separator: "\n"),
        .stepTrainer
      ),
      (Self.reading(otherEmail, at: t + 9000, escape: false), LandingSource.accelerometer),
    ] {
      let batch = try Array(text.utf8).withUnsafeBytes { try IngestBody.parse($0, source: source, token: admin) }
      _ = try await ingestor.accept(batch)
    }
    // The new device's readings already in landing (as if an earlier batch of it had landed).
    try Self.write(
      (0..<7).map { Self.step(newSerial, at: t + 4000 + Int64($0), escape: false) },
      to: "\(lake.root)/step_trainer/landing/late-device.json")
    #expect(!Self.filesMentioning([email], under: lake.logFolder).isEmpty)

    // Erase by yet another spelling, as `stedi lake erase` does on a folder lake.
    let pending = try IngestLogErasure.customerRecords(inLogDirectory: lake.logFolder)
    var eraser = LakeEraser(storage: lake.storage, pseudonymKey: key)
    eraser.landingSettle = .milliseconds(50)
    let report = try await eraser.erase(email: spell(), pending: pending)
    #expect(report.customerRecordsFound >= 3)
    #expect(report.uniqueSerials == 2)

    // The service sees the new list, lands its buffers without the customer, empties its log.
    try await ingestor.erasures.refresh(storage: lake.storage)
    await ingestor.purgeErasedFromLog()
    // Segments go once their batches are in landing; generous for a busy machine.
    let deadline = ContinuousClock.now + .seconds(60)
    while !Self.filesMentioning([email, serial, newSerial], under: lake.logFolder).isEmpty,
      ContinuousClock.now < deadline
    {
      try await Task.sleep(for: .milliseconds(20))
    }
    #expect(Self.filesMentioning([email, serial, newSerial], under: lake.logFolder).isEmpty)
    await ingestor.shutdown()

    _ = try await ZonePipeline(lake: pipelineLake, rules: ZoneRules(profile: .strict), key: key).run()
    let left = Self.filesMentioning([email, Identity.canonical(serial), newSerial], under: lake.root)
    #expect(left.isEmpty, "files still naming the erased customer: \(left)")
    // The other customer is untouched, the one the service held included.
    #expect(TemporaryLake.count(of: otherEmail, in: lake.landingLines(.accelerometer)) == 13)
    #expect(TemporaryLake.count(of: otherSerial, in: lake.landingLines(.stepTrainer)) == 12)

    let audit = try await ComplianceAudit(storage: lake.storage, pseudonymKey: key).run()
    #expect(!audit.findings.contains { $0.check == .erasedCustomer }, "\(audit.findings)")
  }
}

/// A customer erased before their record reached the lake: the record arrives later, at a running
/// service, and teaches the erasure list their serial numbers (issue 15, item 3).
@Suite struct LateSerialTests {
  @Test func aRecordArrivingAfterTheErasureTakesItsDevicesReadingsUpToTheErasure() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let t = ErasureSpellingsTests.base
    try ErasureSpellingsTests.write(
      [ErasureSpellingsTests.customer("owner@x.com", serial: "SER-SHARED", consent: t, updated: t + 1, escape: false)],
      to: "\(lake.root)/customer/landing/customers.json")
    try ErasureSpellingsTests.write(
      (0..<10).map { ErasureSpellingsTests.step("SER-LATE", at: t + Int64($0), escape: false) }
        + (0..<10).map { ErasureSpellingsTests.step("SER-SHARED", at: t + Int64($0), escape: false) },
      to: "\(lake.root)/step_trainer/landing/steps.json")

    // Erased while nothing of theirs is in the lake: the eraser knows no serial number.
    var eraser = LakeEraser(storage: lake.storage, pseudonymKey: PseudonymKey(bytes: Array(repeating: 1, count: 32)))
    eraser.landingSettle = .milliseconds(10)
    let report = try await eraser.erase(email: "Late.Comer@x.com")
    #expect(report.foundNothing)
    #expect(report.text().contains("no record of this customer was found"))
    #expect(try await ErasureList.load(storage: lake.storage).entries.first?.serials.isEmpty == true)

    let (ingestor, _) = try await Ingestor.open(storage: lake.storage, logDirectory: lake.logFolder)
    try await ingestor.erasures.refresh(storage: lake.storage)
    let service = IngestService(ingestor: ingestor, key: IngestFakes.key, metrics: IngestMetrics())
    let admin = AccessToken(role: .admin, subject: "admin", expiresAt: Int64(Date().timeIntervalSince1970) + 3600)
    try await Application(router: service.router()).test(.router) { client in
      let body = [
        ErasureSpellingsTests.customer(
          "late.comer@X.COM", serial: "ser-late", consent: t, updated: t + 2, escape: false),
        ErasureSpellingsTests.customer(
          "LATE.COMER@x.com", serial: "SER-SHARED", consent: t, updated: t + 3, escape: false),
      ].joined(separator: "\n")
      let response = try await client.execute(
        uri: "/v1/customers", method: .post,
        headers: [.contentType: "application/json", .authorization: "Bearer \(admin.signed(with: IngestFakes.key))"],
        body: ByteBuffer(string: body))
      #expect(response.status == .forbidden)
    }
    // The service puts both serials on the list and removes what only the erased customer held.
    let deadline = ContinuousClock.now + .seconds(60)
    while TemporaryLake.count(of: "SER-LATE", in: lake.landingLines(.stepTrainer)) > 0, ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(50))
    }
    #expect(TemporaryLake.count(of: "SER-LATE", in: lake.landingLines(.stepTrainer)) == 0)
    // A serial another customer holds is theirs too: its readings stay.
    #expect(TemporaryLake.count(of: "SER-SHARED", in: lake.landingLines(.stepTrainer)) == 10)
    let list = try await ErasureList.load(storage: lake.storage)
    #expect(list.entries.first?.serials.count == 2)
    #expect(list.entries.first?.serials.allSatisfy { $0.learned == true } == true)

    // A reading of that device after the erasure (its next owner) is not refused.
    let later = ErasureSpellingsTests.step(
      "SER-LATE", at: Int64(Date().timeIntervalSince1970 * 1000) + 60_000, escape: false)
    let device = AccessToken(role: .device, subject: "SER-LATE", expiresAt: Int64(Date().timeIntervalSince1970) + 3600)
    let batch = try Array(later.utf8).withUnsafeBytes {
      try IngestBody.parse($0, source: .stepTrainer, token: device, erasures: ingestor.erasures.snapshot)
    }
    #expect(batch.count == 1)
    let earlier = ErasureSpellingsTests.step("SER-LATE", at: t + 50, escape: false)
    #expect(throws: IngestRejection.self) {
      try Array(earlier.utf8).withUnsafeBytes {
        try IngestBody.parse($0, source: .stepTrainer, token: device, erasures: ingestor.erasures.snapshot)
      }
    }
    await ingestor.shutdown()
  }
}

extension TemporaryLake {
  /// How many of `lines` contain `text`.
  static func count(of text: String, in lines: [String]) -> Int { lines.filter { $0.contains(text) }.count }
}

extension SplitMix64 {
  /// A uniform choice among `bound` options (unbiased).
  mutating func next(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &self) }
  /// A fair coin.
  mutating func flip() -> Bool { Bool.random(using: &self) }
}
