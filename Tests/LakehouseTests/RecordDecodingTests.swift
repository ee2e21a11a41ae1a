import Foundation
import SeededRandom
import Testing

@testable import Lakehouse

/// Runs a decoder on the UTF-8 bytes of `text`.
private func decode<Value>(
  _ text: String, _ decoder: (UnsafeBufferPointer<UInt8>) throws(RecordError) -> Value
) -> Result<Value, RecordError> {
  Array(text.utf8).withUnsafeBufferPointer { line -> Result<Value, RecordError> in
    do throws(RecordError) {
      return .success(try decoder(line))
    } catch {
      return .failure(error)
    }
  }
}

private func reason<Value>(_ result: Result<Value, RecordError>) -> QuarantineReason? {
  if case .failure(let error) = result { return error.reason }
  return nil
}

private func detail<Value>(_ result: Result<Value, RecordError>) -> String {
  if case .failure(let error) = result { return error.detail }
  return "(accepted)"
}

private let santoshSerial = "50f7b4f3-7af5-4b07-a421-7b902c8d2b7c"

/// The customer landing line, one member per entry, in the landing data's order.
private let customerMembers: [(key: String, json: String)] = [
  ("customerName", #""Santosh Clayton""#),
  ("email", #""Santosh.Clayton@test.com""#),
  ("phone", #""8015551212""#),
  ("birthDay", #""1900-01-01""#),
  ("serialNumber", #""50f7b4f3-7af5-4b07-a421-7b902c8d2b7c""#),
  ("registrationDate", "1655564376361"),
  ("lastUpdateDate", "1655564376361"),
  ("shareWithResearchAsOfDate", "1655564376361"),
  ("shareWithPublicAsOfDate", "1655564376361"),
  ("shareWithFriendsAsOfDate", "1655564376361"),
]

/// The real landing line with some members replaced (a JSON text) or removed (nil); new keys are appended.
private func customerLine(_ overrides: [String: String?] = [:]) -> String {
  var parts: [String] = []
  for (key, json) in customerMembers {
    if let override = overrides[key] {
      if let override { parts.append("\"\(key)\": \(override)") }
    } else {
      parts.append("\"\(key)\": \(json)")
    }
  }
  for (key, json) in overrides.sorted(by: { $0.key < $1.key }) where !customerMembers.contains(where: { $0.key == key })
  {
    if let json { parts.append("\"\(key)\": \(json)") }
  }
  return "{" + parts.joined(separator: ", ") + "}"
}

private func customer(_ text: String) -> Result<CustomerRecord, RecordError> { decode(text, CustomerRecord.decode) }
private func accelerometer(_ text: String) -> Result<AccelerometerReading, RecordError> {
  decode(text) { (line) throws(RecordError) in try AccelerometerReading.decode(line) }
}
private func stepTrainer(_ text: String) -> Result<StepTrainerReading, RecordError> {
  decode(text) { (line) throws(RecordError) in try StepTrainerReading.decode(line) }
}
private func machineLearning(_ text: String) -> Result<MachineLearningRow, RecordError> {
  decode(text, MachineLearningRow.decode)
}

private func accelerometerLine(
  user: String = #""Santosh.Clayton@test.com""#, timestamp: String = "1655564444103",
  x: String = "1.0", y: String = "-1.0", z: String = "-1.0"
) -> String {
  #"{"user":\#(user),"timestamp":\#(timestamp),"x":\#(x),"y":\#(y),"z":\#(z)}"#
}

/// Record decoders turn landing lines into values and reject lines that break the schema.
@Suite struct RecordDecodingTests {}

extension RecordDecodingTests {
  /// `customer/landing` lines: required fields, optional consent dates, strings and duplicates.
  @Suite struct Customer {
    @Test func decodesTheRealLandingLine() {
      let expected = CustomerRecord(
        customerName: "Santosh Clayton", email: "Santosh.Clayton@test.com", phone: "8015551212",
        birthDay: "1900-01-01", serialNumber: santoshSerial, registrationDate: 1_655_564_376_361,
        lastUpdateDate: 1_655_564_376_361, shareWithResearchAsOfDate: 1_655_564_376_361,
        shareWithPublicAsOfDate: 1_655_564_376_361, shareWithFriendsAsOfDate: 1_655_564_376_361)
      let line =
        #"{"customerName": "Santosh Clayton", "email": "Santosh.Clayton@test.com", "phone": "8015551212", "birthDay": "1900-01-01", "serialNumber": "50f7b4f3-7af5-4b07-a421-7b902c8d2b7c", "registrationDate": 1655564376361, "lastUpdateDate": 1655564376361, "shareWithResearchAsOfDate": 1655564376361, "shareWithPublicAsOfDate": 1655564376361, "shareWithFriendsAsOfDate": 1655564376361}"#
      #expect(customer(line) == .success(expected))
      #expect(customer(customerLine()) == .success(expected))
    }

    @Test(arguments: ["shareWithResearchAsOfDate", "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate"])
    func consentIsAbsentNullOrAnInteger(field: String) throws {
      let consent: (CustomerRecord) -> Int64? = { record in
        switch field {
        case "shareWithResearchAsOfDate": record.shareWithResearchAsOfDate
        case "shareWithPublicAsOfDate": record.shareWithPublicAsOfDate
        default: record.shareWithFriendsAsOfDate
        }
      }
      let absent = try customer(customerLine([field: nil])).get()
      let null = try customer(customerLine([field: "null"])).get()
      let integer = try customer(customerLine([field: "1655564400000"])).get()
      let zero = try customer(customerLine([field: "0"])).get()
      #expect(consent(absent) == nil)
      #expect(consent(null) == nil)
      #expect(consent(integer) == 1_655_564_400_000)
      #expect(consent(zero) == 0)
      // The other consent dates are untouched.
      #expect(absent.registrationDate == 1_655_564_376_361)
    }

    @Test(arguments: [
      #""1655564376361""#, "1655564376361.0", "1655564376361.5", "1.655564376361e12", "1e3", "true", "{}", "[1]",
    ])
    func consentOfTheWrongTypeIsRejected(json: String) {
      let result = customer(customerLine(["shareWithResearchAsOfDate": json]))
      #expect(reason(result) == .wrongType)
      #expect(detail(result).contains("shareWithResearchAsOfDate"))
    }

    @Test(arguments: ["email", "serialNumber", "registrationDate", "lastUpdateDate"])
    func requiredFieldMissingIsNamed(field: String) {
      let result = customer(customerLine([field: nil]))
      #expect(reason(result) == .missingField)
      #expect(detail(result).contains("'\(field)'"), "\(detail(result))")
    }

    @Test func onlyTheRequiredFieldsAreEnough() {
      let line = #"{"email":"a@b.c","serialNumber":"s","registrationDate":1,"lastUpdateDate":2}"#
      #expect(
        customer(line)
          == .success(CustomerRecord(email: "a@b.c", serialNumber: "s", registrationDate: 1, lastUpdateDate: 2)))
    }

    @Test(arguments: ["customerName", "phone", "birthDay"])
    func optionalStringsMayBeAbsentOrNullButNotAnotherType(field: String) throws {
      let absent = try customer(customerLine([field: nil])).get()
      let null = try customer(customerLine([field: "null"])).get()
      for record in [absent, null] {
        #expect(record.customerName == (field == "customerName" ? nil : "Santosh Clayton"))
        #expect(record.phone == (field == "phone" ? nil : "8015551212"))
        #expect(record.birthDay == (field == "birthDay" ? nil : "1900-01-01"))
      }
      let number = customer(customerLine([field: "8015551212"]))
      #expect(reason(number) == .wrongType)
      #expect(detail(number).contains(field))
    }

    @Test func emptyEmailIsRejected() {
      let result = customer(customerLine(["email": #""""#]))
      #expect(reason(result) == .invalidValue)
      #expect(detail(result).contains("email"))
    }

    @Test(arguments: ["null", "42", "[]", "{}", "true"])
    func emailMustBeAString(json: String) {
      #expect(reason(customer(customerLine(["email": json]))) == .wrongType)
    }

    @Test func escapedEmailDecodesToTheUnescapedString() throws {
      let record = try customer(customerLine(["email": #""Santosh.Clayton\u0040test.com""#])).get()
      #expect(record.email == "Santosh.Clayton@test.com")
      let slashes = try customer(customerLine(["email": #""a\/b\"c\\d\u00e9@x.com""#])).get()
      #expect(slashes.email == "a/b\"c\\dé@x.com")
    }

    @Test func escapedMemberNamesAreRecognised() throws {
      let line = #"{"\u0065mail":"a@b.c","serialNumber":"s","registrationDate":1,"last\u0055pdateDate":2}"#
      let record = try customer(line).get()
      #expect(record.email == "a@b.c")
      #expect(record.lastUpdateDate == 2)
    }

    @Test(arguments: [
      "1655564376361.0", "1655564376361.5", "1.655564376361e12", "1E3", #""1655564376361""#, "null",
      "9223372036854775808", "-9223372036854775809", "123456789012345678901234567890",
    ])
    func dateThatIsNotA64BitIntegerIsWrongType(json: String) {
      let result = customer(customerLine(["registrationDate": json]))
      #expect(reason(result) == .wrongType)
      #expect(detail(result).contains("registrationDate"))
    }

    @Test(arguments: [
      ("email", #""other@test.com""#), ("serialNumber", #""x""#), ("registrationDate", "1"),
      ("shareWithResearchAsOfDate", "null"), ("customerName", "null"), ("phone", #""1""#),
    ])
    func duplicateFieldIsRejected(field: String, json: String) {
      let line = customerLine().dropLast() + ", \"\(field)\": \(json)}"
      let result = customer(String(line))
      #expect(reason(result) == .duplicateField)
      #expect(detail(result).contains("'\(field)'"))
    }

    @Test func duplicateHiddenBehindAnEscapedNameIsRejected() {
      let line = customerLine().dropLast() + #", "em\u0061il": "x@y.z"}"#
      #expect(reason(customer(String(line))) == .duplicateField)
    }

    @Test func unknownFieldsAreIgnored() throws {
      let plain = try customer(customerLine()).get()
      let withExtras = try customer(
        customerLine([
          "address": #"{"street":"1 Main","geo":[40.7,-111.9],"tags":[{"a":null}]}"#, "loyalty": "[1,2,3]",
          "vip": "true", "note": #""\u00e9\n""#, "score": "-1.5e-7", "Email": #""ignored@x.com""#,
        ])
      ).get()
      #expect(withExtras == plain)
      // An unknown member may even repeat.
      let repeated = customerLine().dropLast() + #", "x": 1, "x": 2}"#
      #expect(try customer(String(repeated)).get() == plain)
    }

    @Test func unknownFieldsMustStillBeValidJSON() {
      #expect(reason(customer(customerLine(["extra": "[1,]"]))) == .invalidJSON)
      #expect(reason(customer(customerLine(["extra": "[" + String(repeating: "[", count: 200)]))) == .invalidJSON)
    }

    @Test func aLineThatIsNotAnObjectIsNotAnObject() {
      #expect(reason(customer("[" + customerLine() + "]")) == .notAnObject)
      #expect(reason(customer("null")) == .notAnObject)
    }
  }
}

extension RecordDecodingTests {
  /// `accelerometer/landing` lines.
  @Suite struct Accelerometer {
    @Test func decodesTheRealLandingLine() {
      #expect(
        accelerometer(#"{"user":"Santosh.Clayton@test.com","timestamp":1655564444103,"x":1.0,"y":-1.0,"z":-1.0}"#)
          == .success(
            AccelerometerReading(user: "Santosh.Clayton@test.com", timestamp: 1_655_564_444_103, x: 1, y: -1, z: -1)))
    }

    @Test func acceptsIntegerAndExponentCoordinatesInAnyMemberOrder() {
      #expect(
        accelerometer(#"{ "z" : 2e-1 , "y":-3, "x":0, "timestamp":0, "user":"u@x", "extra":[{}] }"#)
          == .success(AccelerometerReading(user: "u@x", timestamp: 0, x: 0, y: -3, z: 0.2)))
    }

    @Test(arguments: ["user", "timestamp", "x", "y", "z"])
    func missingFieldIsNamed(field: String) {
      let members = ["user": #""u""#, "timestamp": "1", "x": "1", "y": "2", "z": "3"].filter { $0.key != field }
      let line =
        "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
      let result = accelerometer(line)
      #expect(reason(result) == .missingField)
      #expect(detail(result).contains("'\(field)'"))
    }

    @Test(arguments: [
      "1655564444103.0", "1655564444103.5", "1.655564444103e12", "1655564444103E0", #""1655564444103""#, "null",
      "9223372036854775808", "-9223372036854775809", "99999999999999999999",
    ])
    func timestampThatIsNotA64BitIntegerIsWrongType(json: String) {
      let result = accelerometer(accelerometerLine(timestamp: json))
      #expect(reason(result) == .wrongType)
      #expect(detail(result).contains("timestamp"))
    }

    @Test(arguments: [#""1.0""#, "null", "true", "[1]", "{}", "1e309", "-1e400"])
    func coordinateThatIsNotAFiniteNumberIsWrongType(json: String) {
      #expect(reason(accelerometer(accelerometerLine(y: json))) == .wrongType)
    }

    @Test func userMustBeAString() {
      #expect(reason(accelerometer(accelerometerLine(user: "42"))) == .wrongType)
      #expect(reason(accelerometer(accelerometerLine(user: "null"))) == .wrongType)
    }

    @Test func duplicateCoordinateIsRejected() {
      let result = accelerometer(#"{"user":"u","timestamp":1,"x":1,"y":2,"z":3,"x":4}"#)
      #expect(reason(result) == .duplicateField)
      #expect(detail(result).contains("'x'"))
    }

    @Test func escapedUserDecodesToTheUnescapedString() throws {
      let reading = try accelerometer(accelerometerLine(user: #""Santosh.Clayton\u0040test.com""#)).get()
      #expect(reading.user == "Santosh.Clayton@test.com")
    }

    /// The pipeline's consumers reuse one scratch buffer for every line of a chunk.
    @Test func scratchBufferReuseDoesNotLeakBetweenLines() throws {
      var scratch: [UInt8] = []
      var users: [String] = []
      let lines = [
        accelerometerLine(user: #""a.very.long.address\u0040example.com""#),
        accelerometerLine(user: #""b\u0040c""#),
        accelerometerLine(user: #""plain@x.y""#),
        accelerometerLine(user: #""\u00e9\t@x""#),
      ]
      for line in lines {
        try Array(line.utf8).withUnsafeBufferPointer { buffer throws(RecordError) in
          try AccelerometerReading.decode(buffer, scratch: &scratch) { user, _, _, _, _ in
            users.append(String(decoding: user, as: UTF8.self))
          }
        }
      }
      #expect(users == ["a.very.long.address@example.com", "b@c", "plain@x.y", "é\t@x"])
    }

    @Test func rejectedLineNeverReachesTheCallback() {
      var scratch: [UInt8] = []
      var calls = 0
      let line = Array(#"{"user":"u","timestamp":1,"x":1,"y":2}"#.utf8)
      line.withUnsafeBufferPointer { buffer in
        _ = #expect(throws: RecordError.self) {
          try AccelerometerReading.decode(buffer, scratch: &scratch) { _, _, _, _, _ in calls += 1 }
        }
      }
      #expect(calls == 0)
    }
  }
}

extension RecordDecodingTests {
  /// `step_trainer/landing` lines.
  @Suite struct StepTrainer {
    @Test func decodesTheRealLandingLine() {
      #expect(
        stepTrainer(
          #"{"sensorReadingTime":1655564444103,"serialNumber":"50f7b4f3-7af5-4b07-a421-7b902c8d2b7c","distanceFromObject":218}"#
        )
          == .success(
            StepTrainerReading(
              sensorReadingTime: 1_655_564_444_103, serialNumber: santoshSerial, distanceFromObject: 218)))
    }

    @Test func acceptsAFractionalDistance() throws {
      let reading = try stepTrainer(#"{"sensorReadingTime":1,"serialNumber":"s","distanceFromObject":218.5}"#).get()
      #expect(reading.distanceFromObject == 218.5)
    }

    @Test(arguments: ["sensorReadingTime", "serialNumber", "distanceFromObject"])
    func missingFieldIsNamed(field: String) {
      let members = ["sensorReadingTime": "1", "serialNumber": #""s""#, "distanceFromObject": "2"].filter {
        $0.key != field
      }
      let line =
        "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
      let result = stepTrainer(line)
      #expect(reason(result) == .missingField)
      #expect(detail(result).contains("'\(field)'"))
    }

    @Test func wrongTypesAreRejected() {
      #expect(
        reason(stepTrainer(#"{"sensorReadingTime":1.5,"serialNumber":"s","distanceFromObject":2}"#)) == .wrongType)
      #expect(reason(stepTrainer(#"{"sensorReadingTime":1,"serialNumber":7,"distanceFromObject":2}"#)) == .wrongType)
      #expect(
        reason(stepTrainer(#"{"sensorReadingTime":1,"serialNumber":"s","distanceFromObject":"2"}"#)) == .wrongType)
    }

    @Test func duplicateSerialIsRejected() {
      #expect(
        reason(stepTrainer(#"{"sensorReadingTime":1,"serialNumber":"s","distanceFromObject":2,"serialNumber":"t"}"#))
          == .duplicateField)
    }

    @Test func escapedSerialDecodesToTheUnescapedString() throws {
      let reading = try stepTrainer(
        #"{"sensorReadingTime":1,"serialNumber":"50f7b4f3\u002d7af5","distanceFromObject":2}"#
      ).get()
      #expect(reading.serialNumber == "50f7b4f3-7af5")
    }
  }
}

extension RecordDecodingTests {
  /// `machine_learning_curated` rows, which keep the names of unknown members for audits.
  @Suite struct MachineLearning {
    static let line =
      #"{"sensorReadingTime":1655564444103,"serialNumber":"50f7b4f3-7af5-4b07-a421-7b902c8d2b7c","distanceFromObject":218,"x":1.0,"y":-1.0,"z":-1.0,"subjectId":"ab12","user":"Santosh.Clayton@test.com"}"#

    @Test func decodesAFullRow() {
      let expected = MachineLearningRow(
        sensorReadingTime: 1_655_564_444_103, serialNumber: santoshSerial, distanceFromObject: 218, x: 1, y: -1, z: -1,
        subjectId: "ab12", user: "Santosh.Clayton@test.com")
      #expect(machineLearning(Self.line) == .success(expected))
    }

    @Test func userIsOptional() throws {
      let absent = try machineLearning(
        Self.line.replacingOccurrences(of: #","user":"Santosh.Clayton@test.com""#, with: "")
      ).get()
      let null = try machineLearning(Self.line.replacingOccurrences(of: #""Santosh.Clayton@test.com""#, with: "null"))
        .get()
      #expect(absent.user == nil)
      #expect(null.user == nil)
      #expect(
        reason(machineLearning(Self.line.replacingOccurrences(of: #""Santosh.Clayton@test.com""#, with: "1")))
          == .wrongType)
    }

    @Test func unknownMembersAreListedInOrder() throws {
      let row = try machineLearning(
        String(Self.line.dropLast()) + #","email":"a@b.c","customerName":{"x":1},"email":null}"#
      ).get()
      #expect(row.otherFields == ["email", "customerName", "email"])
    }

    @Test(arguments: ["sensorReadingTime", "serialNumber", "distanceFromObject", "x", "y", "z", "subjectId"])
    func missingFieldIsNamed(field: String) {
      // Rename the member so it is unknown rather than present.
      let line = Self.line.replacingOccurrences(of: "\"\(field)\":", with: "\"renamed_\(field)\":")
      let result = machineLearning(line)
      #expect(reason(result) == .missingField)
      #expect(detail(result).contains("'\(field)'"))
    }
  }
}

extension RecordDecodingTests {
  /// Number parsing: doubles are correctly rounded and integers are exact 64-bit values.
  @Suite struct Numbers {
    /// `x` of an accelerometer line whose `x` is the number text.
    private func x(_ number: String) -> Result<Double, RecordError> {
      accelerometer(accelerometerLine(x: number)).map(\.x)
    }

    private func check(_ text: String) {
      let expected = Double(text)
      let result = x(text)
      if let expected, expected.isFinite {
        guard case .success(let value) = result else {
          Issue.record("\(text) rejected: \(detail(result))")
          return
        }
        #expect(value.bitPattern == expected.bitPattern, "\(text): got \(value), Double(String) gives \(expected)")
      } else {
        #expect(reason(result) == .wrongType, "\(text) should be out of range")
      }
    }

    @Test(arguments: [
      "0", "-0", "0.0", "-0.0", "1", "-1", "0.1", "0.2", "0.3", "1.5", "218", "218.5", "3.141592653589793",
      "1e308", "1.7976931348623157e308", "-1.7976931348623157E+308", "5e-324", "4.9406564584124654e-324",
      "2.4703282292062328e-324", "2.2250738585072014e-308", "2.2250738585072011e-308", "1e-400", "1e22", "1e23",
      "123456789012345", "1234567890123456", "12345678901234567890", "9007199254740992", "9007199254740993",
      "900719925474099.3", "0.000000000000000000001", "0.0000000000000000000001",
      "1.00000000000000011102230246251565404236316680908203125",
      "1.00000000000000011102230246251565404236316680908203126", "123456.789e-2", "0.1e1", "100e-2",
      "1655564444103.0", "-0.00001", "8.98846567431158e307", "1e309", "-1e309",
    ])
    func fixedDoublesMatchDoubleFromString(text: String) {
      check(text)
    }

    @Test func negativeZeroKeepsItsSign() throws {
      #expect(try x("-0.0").get().sign == .minus)
      #expect(try x("-0").get().sign == .minus)
      #expect(try x("0").get().sign == .plus)
    }

    @Test func randomDecimalsMatchDoubleFromString() {
      var generator = SplitMix64(seed: 0x5EED_1234)
      func digits(_ count: Int) -> String {
        String((0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
      }
      for round in 0..<600 {
        var text = Bool.random(using: &generator) ? "-" : ""
        // Half the values stay within the parser's fast path (at most 15 digits, no exponent).
        let short = round % 2 == 0
        let integerDigits = Int.random(in: 0...(short ? 8 : 22), using: &generator)
        text += integerDigits == 0 ? "0" : String(Int.random(in: 1...9, using: &generator)) + digits(integerDigits - 1)
        if short || Int.random(in: 0..<3, using: &generator) > 0 {
          let fractionDigits = Int.random(in: 1...(short ? max(1, 15 - max(integerDigits, 1)) : 30), using: &generator)
          text += "." + digits(fractionDigits)
        }
        if !short, Bool.random(using: &generator) {
          text += ["e", "E"].randomElement(using: &generator)! + ["", "+", "-"].randomElement(using: &generator)!
          text += String(Int.random(in: 0...340, using: &generator))
        }
        check(text)
      }
    }

    @Test func randomDoublesSurviveTheirShortestText() {
      var generator = SplitMix64(seed: 42)
      for _ in 0..<500 {
        let value = Double(bitPattern: generator.next())
        guard value.isFinite else { continue }
        check(value.description)
      }
    }

    @Test(arguments: [
      ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min), ("0", 0), ("-0", 0), ("-1", -1),
      ("1655564444103", 1_655_564_444_103), ("9223372036854775806", Int64.max - 1),
      ("-9223372036854775807", Int64.min + 1),
    ])
    func int64BoundariesAreExact(text: String, value: Int64) throws {
      #expect(try accelerometer(accelerometerLine(timestamp: text)).get().timestamp == value)
    }

    @Test(arguments: [
      "9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
      "99999999999999999999", "-99999999999999999999", "100000000000000000000000000000",
    ])
    func integersBeyondInt64AreWrongType(text: String) {
      let result = accelerometer(accelerometerLine(timestamp: text))
      #expect(reason(result) == .wrongType)
      #expect(detail(result).contains("64-bit"))
    }

    @Test func randomInt64sAreExact() throws {
      var generator = SplitMix64(seed: 7)
      for _ in 0..<300 {
        let value = Int64(bitPattern: generator.next()) >> Int64.random(in: 0...62, using: &generator)
        #expect(try accelerometer(accelerometerLine(timestamp: String(value))).get().timestamp == value)
      }
    }
  }
}
