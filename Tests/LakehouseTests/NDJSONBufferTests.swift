import SeededRandom
import Testing

@testable import Lakehouse

/// Renders one object with `body` and returns the text of the line.
private func rendered(_ body: (inout NDJSONBuffer) -> Void) -> String {
  var buffer = NDJSONBuffer()
  buffer.beginObject()
  body(&buffer)
  buffer.endObject()
  return String(decoding: buffer.bytes, as: UTF8.self)
}

/// Renders a record, checks the result is exactly one line, and decodes that line again.
private func roundTrip<Record>(
  _ record: Record, render: (Record, inout NDJSONBuffer) -> Void,
  decode: (UnsafeBufferPointer<UInt8>) throws(RecordError) -> Record
) -> Result<Record, RecordError> {
  var buffer = NDJSONBuffer()
  render(record, &buffer)
  let bytes = buffer.bytes
  #expect(bytes.last == UInt8(ascii: "\n"), "a rendered record ends with a newline")
  #expect(bytes.dropLast().allSatisfy { $0 >= 0x20 }, "no raw control characters (or newlines) inside the line")
  return Array(bytes.dropLast()).withUnsafeBufferPointer { line -> Result<Record, RecordError> in
    do throws(RecordError) {
      return .success(try decode(line))
    } catch {
      return .failure(error)
    }
  }
}

/// A random finite double: raw bit patterns (all magnitudes) mixed with landing-like values.
private func randomDouble(_ generator: inout SplitMix64) -> Double {
  switch Int.random(in: 0..<4, using: &generator) {
  case 0: return Double(Int.random(in: -1000...1000, using: &generator))
  case 1: return Double(Int.random(in: -100_000...100_000, using: &generator)) / 100
  default:
    while true {
      let value = Double(bitPattern: generator.next())
      if value.isFinite { return value }
    }
  }
}

/// Strings that must survive rendering: quotes, backslashes, every control character, non-ASCII.
private let awkwardStrings: [String] = [
  "", "plain", "quote \" inside", "back\\slash", "\\\"", "slash / solidus", "tab\there", "new\nline", "cr\rlf\r\n",
  String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }), "\u{7F}del", "é", "中文", "😀 emoji",
  "\u{10FFFF}", "line\u{2028}separator", "Zoë O'Brien \"The Boss\" \\ 🚀\u{0}",
]

/// NDJSONBuffer renders canonical JSON: fixed key order, canonical numbers, RFC 8259 escapes.
@Suite struct NDJSONBufferTests {
  @Test(arguments: [
    (1.0, "1.0"), (-0.0, "0.0"), (0.0, "0.0"), (-1.0, "-1.0"), (0.5, "0.5"), (-0.25, "-0.25"), (218.0, "218.0"),
    (1_655_564_444_103.0, "1655564444103.0"), (0.1, "0.1"), (999_999_999_999_999.0, "999999999999999.0"),
  ])
  func doubleFieldRendersCanonically(value: Double, text: String) {
    #expect(rendered { $0.field("x", value) } == "{\"x\":\(text)}\n")
  }

  @Test(arguments: [
    (218.0, "218"), (218.5, "218.5"), (0.0, "0"), (-0.0, "0"), (-3.0, "-3"), (0.125, "0.125"), (1.0e10, "10000000000"),
  ])
  func measurementFieldRendersWholeValuesAsIntegers(value: Double, text: String) {
    #expect(rendered { $0.field("d", measurement: value) } == "{\"d\":\(text)}\n")
  }

  @Test func equalDoublesRenderToEqualBytes() {
    #expect(rendered { $0.field("x", 0.0) } == rendered { $0.field("x", -0.0) })
    #expect(rendered { $0.field("d", measurement: 0.0) } == rendered { $0.field("d", measurement: -0.0) })
  }

  @Test(arguments: [
    (Int64.max, "9223372036854775807"), (Int64.min, "-9223372036854775808"), (0, "0"), (-5, "-5"), (9, "9"),
    (10, "10"), (1_655_564_376_361, "1655564376361"),
  ])
  func integerFieldRendersDecimalDigits(value: Int64, text: String) {
    #expect(rendered { $0.field("n", value) } == "{\"n\":\(text)}\n")
  }

  @Test func stringsAreEscapedAsRFC8259Requires() {
    let text = rendered { $0.field("s", "a\"b\\c\n\r\t\u{1}\u{1F}/é\u{7F}") }
    #expect(text == "{\"s\":\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f/é\u{7F}\"}\n")
  }

  @Test func keysKeepTheirOrderAndAbsentOptionalsAreOmitted() {
    let text = rendered {
      $0.field("first", nil as String?)
      $0.field("a", 1 as Int64)
      $0.field("b", "x")
      $0.field("missing", nil as Int64?)
      $0.field("c", 2 as Int64?)
      $0.field("d", "y" as String?)
    }
    #expect(text == "{\"a\":1,\"b\":\"x\",\"c\":2,\"d\":\"y\"}\n")
    #expect(rendered { $0.field("only", nil as Int64?) } == "{}\n")
  }

  @Test func consecutiveObjectsAreSeparateLines() {
    var buffer = NDJSONBuffer()
    for index in 0..<3 {
      buffer.beginObject()
      buffer.field("i", index)
      buffer.endObject()
    }
    #expect(String(decoding: buffer.bytes, as: UTF8.self) == "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n")
  }

  @Test func customerRendersInTheLandingKeyOrder() {
    let record = CustomerRecord(
      customerName: "Santosh Clayton", email: "Santosh.Clayton@test.com", phone: "8015551212", birthDay: "1900-01-01",
      serialNumber: "50f7b4f3-7af5-4b07-a421-7b902c8d2b7c", registrationDate: 1_655_564_376_361,
      lastUpdateDate: 1_655_564_376_361, shareWithResearchAsOfDate: 1_655_564_376_361)
    var buffer = NDJSONBuffer()
    record.render(into: &buffer)
    #expect(
      String(decoding: buffer.bytes, as: UTF8.self)
        == #"{"customerName":"Santosh Clayton","email":"Santosh.Clayton@test.com","phone":"8015551212","birthDay":"1900-01-01","serialNumber":"50f7b4f3-7af5-4b07-a421-7b902c8d2b7c","registrationDate":1655564376361,"lastUpdateDate":1655564376361,"shareWithResearchAsOfDate":1655564376361}"#
        + "\n")
  }

  @Test func readingsRenderAsTheLandingDataHasThem() {
    var buffer = NDJSONBuffer()
    AccelerometerReading(user: "Santosh.Clayton@test.com", timestamp: 1_655_564_444_103, x: 1, y: -1, z: -1)
      .render(into: &buffer)
    StepTrainerReading(
      sensorReadingTime: 1_655_564_444_103, serialNumber: "50f7b4f3-7af5-4b07-a421-7b902c8d2b7c",
      distanceFromObject: 218
    ).render(into: &buffer)
    #expect(
      String(decoding: buffer.bytes, as: UTF8.self)
        == #"{"user":"Santosh.Clayton@test.com","timestamp":1655564444103,"x":1.0,"y":-1.0,"z":-1.0}"# + "\n"
        + #"{"sensorReadingTime":1655564444103,"serialNumber":"50f7b4f3-7af5-4b07-a421-7b902c8d2b7c","distanceFromObject":218}"#
        + "\n")
  }
}

extension NDJSONBufferTests {
  /// Rendering a record and decoding the line gives the same record back.
  @Suite struct RoundTrip {
    @Test(arguments: awkwardStrings)
    func customerStringsSurvive(text: String) {
      let record = CustomerRecord(
        customerName: text, email: "e" + text + "@x", phone: text, birthDay: text, serialNumber: text,
        registrationDate: 1, lastUpdateDate: 2)
      #expect(roundTrip(record, render: { $0.render(into: &$1) }, decode: CustomerRecord.decode) == .success(record))
    }

    @Test func customerWithAndWithoutOptionalsSurvives() {
      let full = CustomerRecord(
        customerName: "Santosh Clayton", email: "Santosh.Clayton@test.com", phone: "8015551212", birthDay: "1900-01-01",
        serialNumber: "50f7b4f3-7af5-4b07-a421-7b902c8d2b7c", registrationDate: Int64.min, lastUpdateDate: Int64.max,
        shareWithResearchAsOfDate: 0, shareWithPublicAsOfDate: -1, shareWithFriendsAsOfDate: 1_655_564_376_361)
      let bare = CustomerRecord(email: "x@y.z", serialNumber: "", registrationDate: 0, lastUpdateDate: 0)
      for record in [full, bare] {
        #expect(roundTrip(record, render: { $0.render(into: &$1) }, decode: CustomerRecord.decode) == .success(record))
      }
    }

    @Test(arguments: awkwardStrings)
    func readingStringsSurvive(text: String) {
      // The user is an email: the awkward text sits in its local part.
      let accelerometer = AccelerometerReading(user: "u" + text + "@x", timestamp: -7, x: 0.1, y: -2, z: 3e-300)
      #expect(
        roundTrip(
          accelerometer, render: { $0.render(into: &$1) },
          decode: { (line) throws(RecordError) in try AccelerometerReading.decode(line) })
          == .success(accelerometer))
      let stepTrainer = StepTrainerReading(sensorReadingTime: 9, serialNumber: text, distanceFromObject: 218)
      #expect(
        roundTrip(
          stepTrainer, render: { $0.render(into: &$1) },
          decode: { (line) throws(RecordError) in try StepTrainerReading.decode(line) })
          == .success(stepTrainer))
      let row = MachineLearningRow(
        sensorReadingTime: 1, serialNumber: text, distanceFromObject: 2, x: 3, y: 4, z: 5, subjectId: text, user: text)
      #expect(roundTrip(row, render: { $0.render(into: &$1) }, decode: MachineLearningRow.decode) == .success(row))
    }

    @Test func randomAccelerometerReadingsSurviveExactly() throws {
      var generator = SplitMix64(seed: 2024)
      for _ in 0..<400 {
        let reading = AccelerometerReading(
          user: "u\(generator.next())@test.com", timestamp: Int64(bitPattern: generator.next()),
          x: randomDouble(&generator), y: randomDouble(&generator), z: randomDouble(&generator))
        let decoded = try roundTrip(
          reading, render: { $0.render(into: &$1) },
          decode: { (line) throws(RecordError) in try AccelerometerReading.decode(line) }
        ).get()
        #expect(decoded == reading)
        // Bit-exact, apart from -0.0 which renders as 0.0 on purpose.
        for (got, want) in [(decoded.x, reading.x), (decoded.y, reading.y), (decoded.z, reading.z)] where want != 0 {
          #expect(got.bitPattern == want.bitPattern, "\(want) came back as \(got)")
        }
      }
    }

    @Test func randomStepTrainerReadingsSurviveExactly() throws {
      var generator = SplitMix64(seed: 99)
      for _ in 0..<400 {
        let reading = StepTrainerReading(
          sensorReadingTime: Int64(bitPattern: generator.next()), serialNumber: "s\(generator.next())",
          distanceFromObject: randomDouble(&generator))
        let decoded = try roundTrip(
          reading, render: { $0.render(into: &$1) },
          decode: { (line) throws(RecordError) in try StepTrainerReading.decode(line) }
        ).get()
        #expect(decoded == reading)
        if reading.distanceFromObject != 0 {
          #expect(decoded.distanceFromObject.bitPattern == reading.distanceFromObject.bitPattern)
        }
      }
    }

    @Test func randomMachineLearningRowsSurviveExactly() throws {
      var generator = SplitMix64(seed: 5)
      for index in 0..<200 {
        let row = MachineLearningRow(
          sensorReadingTime: Int64(bitPattern: generator.next()), serialNumber: "s\(index)",
          distanceFromObject: randomDouble(&generator), x: randomDouble(&generator), y: randomDouble(&generator),
          z: randomDouble(&generator), subjectId: String(generator.next(), radix: 16),
          user: index.isMultiple(of: 2) ? nil : "u\(index)@x.y")
        #expect(try roundTrip(row, render: { $0.render(into: &$1) }, decode: MachineLearningRow.decode).get() == row)
      }
    }

    @Test func renderingIsDeterministic() {
      let reading = AccelerometerReading(
        user: "é\"\\", timestamp: 1, x: 0.1, y: 1e300, z: -Double.leastNonzeroMagnitude)
      var first = NDJSONBuffer()
      var second = NDJSONBuffer()
      reading.render(into: &first)
      reading.render(into: &second)
      #expect(first.bytes == second.bytes)
    }
  }
}

/// The fast path for values with at most four decimals writes exactly what `description` writes.
@Suite struct FourDecimalFormattingTests {
  @Test func matchesDescriptionForRoundedReadings() {
    var random = SystemRandomNumberGenerator()
    var values: [Double] = [0.0001, -0.0001, 0.5, -9.8066, 12.25, 1234.5678, 0.1, 0.12, 0.123, 99999.9999, 3.0e-4]
    for _ in 0..<20_000 {
      let raw = Double.random(in: -50...50, using: &random)
      values.append((raw * 10_000).rounded() / 10_000)
    }
    for value in values {
      var buffer = NDJSONBuffer()
      buffer.appendDouble(value, integralAsInteger: false)
      let expected = value == value.rounded(.towardZero) ? "\(Int64(value)).0" : value.description
      #expect(String(decoding: buffer.bytes, as: UTF8.self) == expected, "\(value)")
    }
  }
}
