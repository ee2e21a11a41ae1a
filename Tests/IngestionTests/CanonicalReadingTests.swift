import IngestAPI
import Lakehouse
import SeededRandom
import StediTestSupport
import Testing

@testable import Ingestion

/// The step-trainer fast path (a reading already in canonical form is landed as received) must
/// land exactly what decoding and rendering it lands, and reject exactly what that rejects.
@Suite struct CanonicalReadingTests {
  /// What the slow path makes of one line: its rendering (newline included), or its error.
  private func slowPath(_ line: String, times: RecordTimeWindow) -> Result<[UInt8], RecordError> {
    let bytes = Array(line.utf8)
    return bytes.withUnsafeBufferPointer { buffer in
      Result { () throws(RecordError) in
        let reading = try StepTrainerReading.decode(buffer, times: times)
        var output = NDJSONBuffer()
        reading.render(into: &output)
        return output.bytes
      }
    }
  }

  private func parse(_ body: String, _ token: AccessToken) -> Result<IngestBatch, IngestRejection> {
    Array(body.utf8).withUnsafeBytes { raw in
      Result { () throws(IngestRejection) in try IngestBody.parse(raw, source: .stepTrainer, token: token) }
    }
  }

  /// A line near the canonical form: usually canonical, often with one field spelled differently.
  private func line(_ random: inout SplitMix64, serial: String) -> String {
    let times: [String] = [
      "1700000000000", "1700000000001", "0", "-1700000000000", "01700000000000", "1700000000000.0", "1.7e12",
      "99999999999999999999", "946684800000", "946684799999", "\"1700000000000\"",
    ]
    let distances: [String] = [
      "0", "-0", "7", "218", "-5", "0.5", "-0.5", "12.25", "7.50", "7.0", "0.0001", "-0.0001", "0.00001",
      "1e2", "00", "01", "1.", ".5", "123456789012345", "1234567890123456", "1234567890.1234",
      "12345678901.5", "9999999999.9999", "3.1415", "2.71828", "1E0", "null", "\"7\"", "-", "0.1", "0.3",
    ]
    let serials = [
      serial, serial.lowercased(), " \(serial)  ", "other", "S\\u002d1", "S-\u{E9}", "", "with \"quote", "S-11", "S-",
    ]
    let time = random.chance(0.6) ? times[0] : times[random.next(times.count)]
    let distance = distances[random.next(distances.count)]
    let serialText = random.chance(0.7) ? serial : serials[random.next(serials.count)]
    let quotedSerial = serialText.hasPrefix("with") ? #""with \"quote""# : "\"\(serialText)\""
    switch random.next(8) {
    case 0: return #"{"serialNumber":\#(quotedSerial),"sensorReadingTime":\#(time),"distanceFromObject":\#(distance)}"#
    case 1: return #"{"sensorReadingTime": \#(time),"serialNumber":\#(quotedSerial),"distanceFromObject":\#(distance)}"#
    case 2:
      return #"{"sensorReadingTime":\#(time),"serialNumber":\#(quotedSerial),"distanceFromObject":\#(distance),"x":1}"#
    case 3: return #"{"sensorReadingTime":\#(time),"serialNumber":\#(quotedSerial),"distanceFromObject":\#(distance)} "#
    default: return #"{"sensorReadingTime":\#(time),"serialNumber":\#(quotedSerial),"distanceFromObject":\#(distance)}"#
    }
  }

  @Test(arguments: [IngestFakes.token(.device, "S-1"), IngestFakes.token(.admin, "admin")])
  func landsAndRejectsWhatDecodingAndRenderingWould(token: AccessToken) throws {
    var random = SplitMix64(seed: 20_261_207)
    let times = RecordTimeWindow.current()
    var fast = 0
    for _ in 0..<4000 {
      let text = line(&random, serial: "S-1")
      let trimmed = text.trimmingSuffixSpaces
      let bytes = Array(trimmed.utf8)
      let canonical = bytes.withUnsafeBufferPointer { StepTrainerReading.canonicalLine($0, times: times) }
      let expected = slowPath(trimmed, times: times)
      if canonical != nil {
        fast += 1
        // Accepted by the fast path: the slow path accepts it too and renders the same bytes.
        #expect(try expected.get() == bytes + [0x0A], "\(text)")
      }
      switch (parse(text, token), expected) {
      case (.success(let batch), .success(let rendered)):
        #expect(batch.ndjson == rendered, "\(text)")
      case (.failure(let rejection), .failure(let error)):
        #expect(rejection.reason == error.reason.rawValue && rejection.field == error.field, "\(text)")
      case (.failure(let rejection), .success):
        // Decodes, but names another serial than the device token's.
        #expect(token.role == .device && rejection.reason == "wrong_serial", "\(text)")
      case (.success, .failure):
        Issue.record("accepted a line the slow path rejects: \(text)")
      }
    }
    #expect(fast > 500)
  }

  @Test func aWholeBodyOfMixedLinesLandsAsTheSlowPathWouldRenderIt() throws {
    let token = IngestFakes.token(.device, "S-1")
    let times = RecordTimeWindow.current()
    let lines = [
      #"{"sensorReadingTime":1700000000000,"serialNumber":"S-1","distanceFromObject":200}"#,
      #"{"sensorReadingTime":1700000000001,"serialNumber":"s-1","distanceFromObject":7.50}"#,
      #"{ "distanceFromObject":1e2, "serialNumber":"S-1", "sensorReadingTime":1700000000002 }"#,
      #"{"sensorReadingTime":1700000000003,"serialNumber":"S-1","distanceFromObject":0.25}"#,
    ]
    let batch = try parse(lines.joined(separator: "\r\n") + "\n\n", token).get()
    var expected: [UInt8] = []
    for line in lines { expected += try slowPath(line, times: times).get() }
    #expect(batch.count == 4 && batch.ndjson == expected)
  }
}

extension String {
  /// The line as `forEachRecord` hands it over: trailing spaces, tabs and CRs trimmed.
  fileprivate var trimmingSuffixSpaces: String {
    var text = Substring(self)
    while let last = text.last, last == " " || last == "\t" || last == "\r" { text.removeLast() }
    return String(text)
  }
}

@Suite struct CanonicalSerialTests {
  @Test func theFastSerialCheckAgreesWithTheTokens() {
    let spellings = ["S-1", "s-1", " S-1 ", "S-1 ", "s-11", "s-", "", " ", "S_1", "S-1\u{7F}", "A-Z", "a-z", "@-["]
    for subject in ["s-1", "a-z", "S-1", ""] {
      let token = AccessToken(role: .admin, subject: subject, expiresAt: 0)  // admin: kept as spelled
      for serial in spellings {
        let bytes = Array(serial.utf8)
        let fast = bytes.withUnsafeBufferPointer { IngestBody.CanonicalReadings.names($0, Array(subject.utf8)) }
        #expect(fast == token.names(serial), "\(serial) for \(subject)")
      }
    }
  }
}
