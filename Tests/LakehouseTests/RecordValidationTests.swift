import Foundation
import StediTestSupport
import Testing

@testable import Lakehouse

/// Values that have the right JSON type but cannot be real: blank or shapeless emails, and times
/// before 2000 or more than a day ahead of the run's clock.
@Suite struct RecordValidationTests {
  /// 2023-11-14T22:13:20Z, the clock of these tests' runs.
  static let clock = Date(timeIntervalSince1970: 1_700_000_000)
  static let window = RecordTimeWindow(now: clock)

  /// What the decoder threw on the UTF-8 bytes of `text`, or nil when it accepted them.
  static func outcome<Value>(
    _ text: String, _ decoder: (UnsafeBufferPointer<UInt8>) throws -> Value
  ) -> RecordError? {
    Array(text.utf8).withUnsafeBufferPointer { line -> RecordError? in
      do {
        _ = try decoder(line)
        return nil
      } catch {
        return error as? RecordError ?? RecordError(.invalidJSON, "not a RecordError: \(error)")
      }
    }
  }

  static func customer(
    email: String = "\"a@example.com\"", registered: Int64 = 1_700_000_000_000, consent: String = "null"
  )
    -> String
  {
    #"{"email": \#(email), "serialNumber": "S-1", "registrationDate": \#(registered), "lastUpdateDate": 1700000000000, "shareWithResearchAsOfDate": \#(consent)}"#
  }

  @Test(arguments: [
    #""""#, #""   ""#, #""\t\n""#, #""\u00a0""#, #""someone""#, #""a@""#, #""@example.com""#, #""a@b@example.com""#,
    #""a@exa mple.com""#, #""a@example.com\tx""#, #""a@exa\u3000mple.com""#,
  ])
  func emailsThatAreNotAddressesAreInvalidValuesNamingTheField(email: String) throws {
    let error = try #require(Self.outcome(Self.customer(email: email)) { try CustomerRecord.decode($0) })
    #expect(error.reason == .invalidValue)
    #expect(error.field == "email")
    #expect(error.detail.contains("field 'email' must be an email address"))
  }

  @Test(arguments: [
    #""a@example.com""#, #"" a@example.com ""#, #""Santosh.Clayton@test.com""#, #""Jörg@bücher.de""#,
    #""first last@example.com""#,
  ])
  func addressesAreAccepted(email: String) {
    #expect(Self.outcome(Self.customer(email: email)) { try CustomerRecord.decode($0) } == nil)
  }

  @Test func aReadingsUserMustBeAnAddressToo() throws {
    let error = try #require(
      Self.outcome(#"{"user": " ", "timestamp": 1700000000000, "x": 1, "y": 2, "z": 3}"#) {
        try AccelerometerReading.decode($0)
      })
    #expect(error.reason == .invalidValue && error.field == "user")
    // Escaped, it is checked unescaped.
    #expect(
      Self.outcome(#"{"user": "a\u0040example.com", "timestamp": 1700000000000, "x": 1, "y": 2, "z": 3}"#) {
        try AccelerometerReading.decode($0)
      } == nil)
  }

  @Test func timesBefore2000AreOutOfRangeNamingFieldAndDate() throws {
    let negative = try #require(
      Self.outcome(#"{"user": "a@example.com", "timestamp": -1, "x": 1, "y": 2, "z": 3}"#) {
        try AccelerometerReading.decode($0, times: Self.window)
      })
    #expect(negative.reason == .outOfRange && negative.field == "timestamp")
    #expect(
      negative.detail
        == "field 'timestamp' is -1 (1969-12-31T23:59:59.999Z), before 2000-01-01T00:00:00.000Z")

    let step = try #require(
      Self.outcome(#"{"sensorReadingTime": 100, "serialNumber": "S-1", "distanceFromObject": 5}"#) {
        try StepTrainerReading.decode($0, times: Self.window)
      })
    #expect(step.reason == .outOfRange && step.field == "sensorReadingTime")

    let registered = try #require(
      Self.outcome(Self.customer(registered: 946_684_799_999)) { try CustomerRecord.decode($0, times: Self.window) })
    #expect(registered.field == "registrationDate")
    let consent = try #require(
      Self.outcome(Self.customer(consent: "5")) { try CustomerRecord.decode($0, times: Self.window) })
    #expect(consent.reason == .outOfRange && consent.field == "shareWithResearchAsOfDate")

    // The first instant of 2000 is in; a consent that is not set is not a date.
    #expect(
      Self.outcome(Self.customer(registered: 946_684_800_000)) { try CustomerRecord.decode($0, times: Self.window) }
        == nil)
  }

  @Test func timesMoreThanADayAheadOfTheClockAreOutOfRange() throws {
    let now: Int64 = 1_700_000_000_000
    let day: Int64 = 86_400_000
    let ahead = try #require(
      Self.outcome(#"{"sensorReadingTime": \#(now + day + 1), "serialNumber": "S-1", "distanceFromObject": 5}"#) {
        try StepTrainerReading.decode($0, times: Self.window)
      })
    #expect(ahead.reason == .outOfRange && ahead.field == "sensorReadingTime")
    #expect(ahead.detail.contains("more than a day after the current time (2023-11-14T22:13:20.000Z)"))
    #expect(
      Self.outcome(#"{"sensorReadingTime": \#(now + day), "serialNumber": "S-1", "distanceFromObject": 5}"#) {
        try StepTrainerReading.decode($0, times: Self.window)
      } == nil)
    // Absurd values still get a readable detail.
    let far = try #require(
      Self.outcome(#"{"sensorReadingTime": 9223372036854775807, "serialNumber": "S-1", "distanceFromObject": 5}"#) {
        try StepTrainerReading.decode($0, times: Self.window)
      })
    #expect(far.detail.contains("out of calendar range"))
  }

  @Test func decodingWithoutAWindowAcceptsAnyTime() {
    // Erasure and audit must recognise every record, whatever its dates.
    #expect(
      Self.outcome(#"{"sensorReadingTime": 1, "serialNumber": "S-1", "distanceFromObject": 5}"#) {
        try StepTrainerReading.decode($0)
      } == nil)
  }

  @Test func iso8601OfEpochMilliseconds() {
    #expect(EpochMilliseconds.iso8601(0) == "1970-01-01T00:00:00.000Z")
    #expect(EpochMilliseconds.iso8601(951_782_400_123) == "2000-02-29T00:00:00.123Z")
    #expect(EpochMilliseconds.iso8601(-62_135_596_800_000) == "0001-01-01T00:00:00.000Z")
    #expect(EpochMilliseconds.iso8601(253_402_300_799_999) == "9999-12-31T23:59:59.999Z")
  }

  @Test func thePipelineQuarantinesOutOfRangeAndInvalidLinesAgainstItsOwnClock() async throws {
    let root = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: root).remove() }
    let now: Int64 = 1_700_000_000_000
    let lines = [
      Self.customer(consent: "1690000000000"),
      Self.customer(email: #""  ""#),
      Self.customer(registered: 0),
    ]
    try FileManager.default.createDirectory(atPath: "\(root)/customer/landing", withIntermediateDirectories: true)
    try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: "\(root)/customer/landing/c.json"))
    let readings = [
      #"{"user": "a@example.com", "timestamp": \#(now), "x": 1, "y": 2, "z": 3}"#,
      #"{"user": "a@example.com", "timestamp": \#(now + 2 * 86_400_000), "x": 1, "y": 2, "z": 3}"#,
      #"{"user": "a@example.com", "timestamp": -5, "x": 1, "y": 2, "z": 3}"#,
    ]
    try FileManager.default.createDirectory(atPath: "\(root)/accelerometer/landing", withIntermediateDirectories: true)
    try Data(readings.joined(separator: "\n").utf8).write(
      to: URL(fileURLWithPath: "\(root)/accelerometer/landing/a.json"))

    var pipeline = ZonePipeline(
      lake: try Lake(root: root), rules: ZoneRules(profile: .strict), key: LakeFixtures.testKey)
    pipeline.now = { Self.clock }
    let summary = try await pipeline.run()
    #expect(summary.published)
    #expect(summary.quarantineReasons[.customer] == [.invalidValue: 1, .outOfRange: 1])
    #expect(summary.quarantineReasons[.accelerometer] == [.outOfRange: 2])
    #expect(summary.tableRows[.accelerometerTrusted] == 1)
    for source in LandingSource.allCases {
      let counts = summary.lines[source] ?? LineCounts()
      #expect(counts.read == counts.accepted + counts.quarantined + counts.blank)
    }
    let entries = try quarantineEntries(root, "accelerometer")
    #expect(entries.map { $0["line"] as? Int } == [2, 3])
    #expect(entries.allSatisfy { ($0["detail"] as? String)?.hasPrefix("field 'timestamp' is ") == true })

    // The same lake a week later: the reading two days ahead is no longer in the future.
    pipeline.now = { Self.clock.addingTimeInterval(7 * 86_400) }
    #expect(try await pipeline.run().quarantineReasons[.accelerometer] == [.outOfRange: 1])
  }
}
