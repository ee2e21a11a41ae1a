import Foundation
import LakeStorage
import SeededRandom
import StediTestSupport
import Testing

@testable import Lakehouse

/// One canonical identity for emails and serial numbers, and where it is used (issue 15, item 1).
@Suite struct IdentityTests {
  static let t: Int64 = 1_700_000_000_000

  @Test(arguments: [
    ("élise@x.com", "élise@x.com"), ("Élise@X.com", "élise@x.com"), ("E\u{301}lise@x.com", "élise@x.com"),
    ("  ÉLISE@x.COM\t", "élise@x.com"), ("\u{212A}im@x.com", "kim@x.com"), ("Jose\u{301}", "josé"),
    ("SER-A\u{30A}", "ser-å"), ("plain@x.com", "plain@x.com"),
  ])
  func spellingsHaveOneCanonicalForm(spelling: String, canonical: String) {
    let result = Identity.canonical(spelling)
    #expect(Array(result.utf8) == Array(canonical.utf8))
    #expect(Identity.canonical(result) == result, "canonical form must be stable")
  }

  /// Every ASCII character, capitals and control characters included: the byte-level ASCII path
  /// (trim, fold A-Z) gives what Foundation's trimming, lower-casing and NFC give, as a String,
  /// as bytes, and as a table lookup.
  @Test func theASCIIFastPathAgreesWithTheFullMapping() {
    var generator = SplitMix64(seed: 15)
    let alphabet = (0..<128).map { Character(Unicode.Scalar(UInt8($0))) } + Array("aZ@. \tK")
    var table = ByteStringTable()
    for _ in 0..<5000 {
      let length = Int(generator.next() % 12)
      let text = String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
      let full = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        .precomposedStringWithCanonicalMapping
      #expect(Array(Identity.canonical(text).utf8) == Array(full.utf8), "\(Array(text.utf8))")
      var copy = text
      let bytes = copy.withUTF8 { Identity.canonical(bytes: UnsafeRawBufferPointer($0)) }
      #expect(bytes == Array(full.utf8), "\(Array(text.utf8))")
      let id = table.insert(full)
      #expect(copy.withUTF8 { table.id(ofIdentity: UnsafeRawBufferPointer($0)) } == id)
      let fast = copy.withUTF8 { Identity.isCanonicalASCII(UnsafeRawBufferPointer($0)) }
      if fast { #expect(full == text) }
    }
  }

  @Test func subjectIdIsTheSameForEverySpelling() {
    let key = PseudonymKey(bytes: Array(repeating: 1, count: 32))
    #expect(key.subjectId(email: "élise@x.com") == key.subjectId(email: " E\u{301}LISE@x.com"))
    #expect(key.subjectId(email: "élise@x.com") != key.subjectId(email: "elise@x.com"))
  }

  @Test func erasureHashesEverySpellingAlike() {
    let key = ErasureKey(bytes: Array(repeating: 3, count: 32))
    #expect(key.hash(email: "josé@x.com") == key.hash(email: "JOSE\u{301}@X.com "))
    #expect(key.hash(serialNumber: "SER-Å") == key.hash(serialNumber: "ser-a\u{30A}"))
  }

  @Test func escapedAndNonASCIIIdentifiersAreTokens() {
    var tokens: [String] = []
    let line = Array(#"garbage {"user":"\u00c9lise@x.com", "other": "E\u0301LISE@x.com" "é@"#.utf8)
    line.withUnsafeBufferPointer { IdentifierTokens.forEach(in: $0) { tokens.append(String($0)) } }
    let canonical = Set(tokens.map(Identity.canonical))
    #expect(canonical.contains("élise@x.com"))
  }

  /// Strict: a later record without consent under another spelling withdraws consent; readings
  /// under any spelling are the customer's; one subjectId. (PrivacyLake adds its own 2023 epoch
  /// to the small times written here.)
  @Test func thePipelineTreatsEverySpellingAsOneCustomer() async throws {
    let t: Int64 = 1000
    let lake = try PrivacyLake("identity")
    defer { lake.remove() }
    try lake.writeCustomers([
      PrivacyLake.customer("élise@x.com", serial: "SER-1", updated: t + 1, consent: t, registered: t),
      PrivacyLake.customer("ann@x.com", serial: "SER-2", updated: t + 1, consent: t, registered: t),
      PrivacyLake.customer("ANN@X.com ", serial: "SER-2", updated: t + 2, consent: nil, registered: t),
    ])
    try lake.writeAccelerometer([
      PrivacyLake.phone("E\u{301}lise@x.com", at: t + 10),
      PrivacyLake.phone("ÉLISE@x.com", at: t + 20),
      PrivacyLake.phone("ann@x.com", at: t + 10),
    ])
    try lake.writeStepTrainer([
      PrivacyLake.step("ser-1", at: t + 10), PrivacyLake.step("SER-1", at: t + 20),
      PrivacyLake.step("SER-2", at: t + 10),
    ])
    let summary = try await lake.run(.strict)
    #expect(summary.qualityFailures.isEmpty, "\(summary.qualityFailures)")
    let tables = try await lake.tables()
    #expect(tables.customerTrusted.map(\.email) == ["élise@x.com"])
    #expect(tables.accelerometerTrusted.count == 2)
    // Tables show the customer's email as their trusted record spells it.
    #expect(tables.accelerometerTrusted.allSatisfy { $0.user == "élise@x.com" })
    #expect(tables.stepTrainerTrusted.count == 2)
    #expect(tables.machineLearningCurated.count == 2)
    #expect(Set(tables.machineLearningCurated.map(\.subjectId)) == [privacyTestKey.subjectId(email: "Élise@x.com")])
    for table in ZoneTable.allCases {
      #expect(!tables.raw[table]!.privacyContains("ann@x.com"), "ann appears in \(table.rawValue)")
    }
  }
}
