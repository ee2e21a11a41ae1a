import Foundation
import Motion
import StediTestSupport
import Testing

@testable import PhoneCapture

/// Reads a test-written export.
private func read(
  _ text: String, path: String, format: PhoneExportFormat? = nil, sensor: SensorLoggerSensor? = nil,
  timeFile: String? = PhoneImportTests.androidTimeFile, startMilliseconds: Int64? = nil
) throws -> PhoneImport {
  try PhoneImporter(
    format: format, sensor: sensor, phyphoxTimeFile: timeFile.map { Array($0.utf8) },
    phyphoxStartMilliseconds: startMilliseconds
  ).read(Array(text.utf8), path: path)
}

/// The error a read throws, or nil.
private func importError(_ body: () throws -> PhoneImport) -> PhoneImportError? {
  do {
    _ = try body()
    return nil
  } catch let error as PhoneImportError {
    return error
  } catch {
    return nil
  }
}

/// phyphox and Sensor Logger exports written by the tests themselves, one quirk at a time.
@Suite struct PhoneImportTests {
  /// Android style: `system time` as plain seconds with a decimal point.
  static let androidTimeFile = """
    "event","experiment time","system time","system time text"
    "START",0.000000000E0,1695674132.382,"2023-09-25 17:35:32.382 UTC-03:00"
    "PAUSE",1.826954062E1,1695674150.652,"2023-09-25 17:35:50.652 UTC-03:00"

    """
  static let start: Int64 = 1_695_674_132_382

  static let phyphoxHeader =
    #""Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)","Absolute acceleration (m/s^2)""#
  static let phyphoxRows = [
    "3.352406400E-2,3.759722710E-1,3.349951655E-2,9.849455833E0,9.856685933E0",
    "3.595385600E-2,3.903291821E-1,4.067798331E-2,9.847063065E0,9.854880140E0",
    "1.826407438E1,-1.411041681E-3,4.546362907E-2,9.806086540E0,9.811520910E0",
  ]
  /// What the three rows must give: start + seconds, rounded down to the millisecond.
  static let phyphoxExpected = [
    PhoneSample(timestamp: start + 33, x: 0.3759722710, y: 0.03349951655, z: 9.849455833),
    PhoneSample(timestamp: start + 35, x: 0.3903291821, y: 0.04067798331, z: 9.847063065),
    PhoneSample(timestamp: start + 18_264, x: -0.001411041681, y: 0.04546362907, z: 9.806086540),
  ]

  // MARK: phyphox

  @Test func phyphoxCommaDecimalPointWithoutTrailingNewline() throws {
    let text = ([Self.phyphoxHeader] + Self.phyphoxRows).joined(separator: "\n")
    let result = try read(text, path: "export/Raw Data.csv")
    #expect(result.format == .phyphox)
    #expect(result.samples == Self.phyphoxExpected)
    #expect(result.rejected.isEmpty)
    #expect(result.gravity == .included)
    #expect(result.stream == "Acceleration")
    #expect(result.notes.contains { $0.contains("meta/time.csv") })
  }

  @Test func trailingNewlineAndBlankLinesChangeNothing() throws {
    let without = try read(([Self.phyphoxHeader] + Self.phyphoxRows).joined(separator: "\n"), path: "Raw Data.csv")
    let with = try read(
      ([Self.phyphoxHeader] + Self.phyphoxRows).joined(separator: "\n") + "\n\n", path: "Raw Data.csv")
    #expect(with.samples == without.samples)
    #expect(with.rejected.isEmpty)
    #expect(with.blankLines == 1)
  }

  @Test(arguments: [("\t", "."), (";", "."), ("\t", ","), (";", ",")])
  func phyphoxTabAndSemicolonWithDecimalPointOrComma(separator: String, mark: String) throws {
    let header = Self.phyphoxHeader.replacingOccurrences(of: ",", with: separator)
    let rows = Self.phyphoxRows.map {
      $0.replacingOccurrences(of: ".", with: mark == "," ? "#" : ".")
        .replacingOccurrences(of: ",", with: separator)
        .replacingOccurrences(of: "#", with: ",")
    }
    let timeFile = Self.androidTimeFile.replacingOccurrences(of: ",", with: separator)
      .replacingOccurrences(of: "1695674132.382", with: "1695674132\(mark)382")
    let result = try read((([header] + rows).joined(separator: "\n")), path: "Raw Data.csv", timeFile: timeFile)
    #expect(result.samples == Self.phyphoxExpected)
    #expect(result.rejected.isEmpty, "\(result.rejected)")
  }

  @Test func linearAccelerationTabExportIsWithoutGravity() throws {
    let text = """
      "Time (s)"\t"Linear Acceleration x (m/s^2)"\t"Linear Acceleration y (m/s^2)"\t"Linear Acceleration z (m/s^2)"
      2.073983334E-2\t-3.828125310E-1\t9.024814832E-1\t-2.223589693E0
      3.071183334E-2\t-6.285651577E-1\t9.711283797E-1\t-1.333305502E0
      """
    let result = try read(text, path: "Linear Acceleration.csv")
    #expect(result.gravity == .removed)
    #expect(result.stream == "Linear Acceleration")
    #expect(result.samples.map(\.timestamp) == [Self.start + 20, Self.start + 30])
    #expect(result.samples[0].x == -0.3828125310)
    #expect(result.notes.count == 1)

    // Android linear acceleration often starts with a row of zeros: kept, and pointed out.
    let zeros = text.replacingOccurrences(
      of: "2.073983334E-2\t-3.828125310E-1\t9.024814832E-1\t-2.223589693E0",
      with: "7.744439200E-2\t0.000000000E0\t0.000000000E0\t0.000000000E0")
    let zeroResult = try read(zeros, path: "Linear Acceleration.csv")
    #expect(zeroResult.samples.count == 2)
    #expect(zeroResult.notes.contains { $0.contains("exactly 0 on every axis") })
  }

  @Test func iosMultiSensorColumnsTakeGravityFromTheFileName() throws {
    let text = """
      "Time (s)","X (m/s^2)","Y (m/s^2)","Z (m/s^2)"
      1.0E-2,1.0E0,2.0E0,3.0E0
      """
    #expect(try read(text, path: "Linear Accelerometer.csv").gravity == .removed)
    #expect(try read(text, path: "Accelerometer.csv").gravity == .included)
    #expect(try read(text, path: "walk.csv").gravity == .unknown)
  }

  @Test func unquotedResavedHeaderWithCRLFAndShortExponents() throws {
    let text =
      "Time (s),Accel_X (m/s^2),Accel_Y (m/s^2),Accel_Z (m/s^2)\r\n"
      + "0.5,8.87E-03,-1.5E+00,9.81\r\n"
      + "1,0,0,0\r\n"
    let result = try read(text, path: "walk.csv")
    #expect(result.format == .phyphox)
    #expect(
      result.samples == [
        PhoneSample(timestamp: Self.start + 500, x: 0.00887, y: -1.5, z: 9.81),
        PhoneSample(timestamp: Self.start + 1000, x: 0, y: 0, z: 0),
      ])
    #expect(result.rejected.isEmpty)
  }

  @Test func emptyQuotedValuesAreRejectedOnlyWhereASampleNeedsThem() throws {
    let text = """
      \(Self.phyphoxHeader)
      1.0E-2,1.0E0,2.0E0,3.0E0,""
      2.0E-2,"",2.0E0,3.0E0,""
      "",1.0E0,2.0E0,3.0E0,3.7E0
      """
    let result = try read(text, path: "Raw Data.csv")
    #expect(result.samples == [PhoneSample(timestamp: Self.start + 10, x: 1, y: 2, z: 3)])
    #expect(result.rejected.map(\.line) == [3, 4])
    #expect(result.rejected.map(\.reason) == [.missingValue, .missingValue])
    #expect(result.rejected[0].detail.contains("Acceleration x"))
    #expect(result.rejected[0].rawText == #"2.0E-2,"",2.0E0,3.0E0,"""#)
  }

  @Test func badPhyphoxRowsAreReportedWithLineAndReason() throws {
    let text = """
      \(Self.phyphoxHeader)
      1.0E-2,1.0E0,2.0E0,3.0E0,3.7E0
      2.0E-2,1.0E0,2.0E0,3.0E0
      3.0E-2,1.0E0,2.0E0,3.0E0,3.7E0,9
      4.0E-2,abc,2.0E0,3.0E0,3.7E0
      5.0E-2,NaN,2.0E0,3.0E0,3.7E0
      6.0E-2,1.0E0,-inf,3.0E0,3.7E0
      7.0E-2,1.0E0,2.0E0,1E999,3.7E0
      8.0E-2,1.0E0,2.0E0,3.0E0,oops
      "9.0E-2,1.0E0,2.0E0,3.0E0,3.7E0
      0x1p3,1.0E0,2.0E0,3.0E0,3.7E0
      1.0E-2,1.0E0,2.0E0,3.0E0,3.7E0
      0.5E-2,1.0E0,2.0E0,3.0E0,3.7E0
      """
    let result = try read(text, path: "Raw Data.csv")
    // Duplicate and backward times are kept (and counted); everything else bad is rejected.
    #expect(result.samples.map(\.timestamp) == [Self.start + 10, Self.start + 10, Self.start + 5])
    #expect(result.nonIncreasingSteps == 2)
    let expected: [(Int, PhoneRejectionReason)] = [
      (3, .missingColumns), (4, .extraColumns), (5, .invalidNumber), (6, .nonFinite), (7, .nonFinite),
      (8, .nonFinite), (9, .invalidNumber), (10, .malformedRow), (11, .invalidNumber),
    ]
    #expect(result.rejected.map(\.line) == expected.map(\.0))
    #expect(result.rejected.map(\.reason) == expected.map(\.1))
    #expect(result.rejected[0].detail == "the row has 4 fields, the header has 5")
    #expect(result.rejected[2].rawText == "4.0E-2,abc,2.0E0,3.0E0,3.7E0")
  }

  @Test func iosTimeFileNumberStyleGivesTheExactStart() throws {
    let timeFile = """
      "event","experiment time","system time","system time text"
      "START",0.000000000000000E0,1.696884613547111E9,"2023-10-09 17:50:13.547 UTC-03:00"
      "PAUSE",2.323598149999452E1,1.696884636783044E9,"2023-10-09 17:50:36.783 UTC-03:00"
      """
    let text = "\(Self.phyphoxHeader)\n2.407245833E-2,1.0E0,2.0E0,3.0E0,3.7E0\n2.321491875E1,1.0E0,2.0E0,3.0E0,3.7E0"
    let result = try read(text, path: "Raw Data.csv", timeFile: timeFile)
    // 1696884613.547111 s + 0.02407245833 s = …613.57118345833 s → floor to …613571 ms.
    #expect(result.samples.map(\.timestamp) == [1_696_884_613_571, 1_696_884_636_762])
  }

  @Test func pausedExperimentsPlaceEachRunByItsOwnStart() throws {
    let timeFile = """
      "event","experiment time","system time","system time text"
      "START",0.0E0,1000.0,""
      "PAUSE",1.0E0,1001.0,""
      "START",1.0E0,1010.0,""
      "PAUSE",2.0E0,1011.0,""
      """
    let text = "\(Self.phyphoxHeader)\n5.0E-1,1,2,3,4\n1.5E0,1,2,3,4"
    let result = try read(text, path: "Raw Data.csv", timeFile: timeFile)
    #expect(result.samples.map(\.timestamp) == [1_000_500, 1_010_500])
    #expect(result.notes.contains { $0.contains("2 START events") })
  }

  @Test func phyphoxNeedsAStartTime() throws {
    let text = "\(Self.phyphoxHeader)\n5.0E-1,1,2,3,4"
    let error = importError { try read(text, path: "Raw Data.csv", timeFile: nil) }
    #expect(error == .missingStartTime(path: "Raw Data.csv"))
    #expect(error?.description.contains("meta/time.csv") == true)
    let given = try read(text, path: "Raw Data.csv", timeFile: nil, startMilliseconds: 1_000)
    #expect(given.samples.map(\.timestamp) == [1_500])
    let broken = importError { try read(text, path: "Raw Data.csv", timeFile: "\"event\",\"when\"\n") }
    #expect(broken?.description.contains("experiment time") == true)
    let noStart = importError {
      try read(text, path: "Raw Data.csv", timeFile: "\"event\",\"experiment time\",\"system time\"\n\"PAUSE\",1,2\n")
    }
    #expect(noStart == .invalidTimeFile(reason: "it has no START event"))
  }

  // MARK: Sensor Logger CSV

  @Test func sensorLoggerCSVMapsZBeforeXAndKeepsEveryNanosecondDigit() throws {
    let text = """
      time,seconds_elapsed,z,y,x
      1700810754682863000,0.050863037109375,3.0,2.0,1.0
      1700810754682999999,-0.1234,0.1253643035888672,-0.22067803144454956,1.3325852155685425
      1700810754683000000,0.06086328125,6,5,4

      """
    let result = try read(text, path: "2023-11-24_07-25-54/Accelerometer.csv")
    #expect(result.format == .sensorLoggerCSV)
    #expect(result.stream == "Accelerometer")
    #expect(result.gravity == .removed)
    #expect(
      result.samples == [
        PhoneSample(timestamp: 1_700_810_754_682, x: 1, y: 2, z: 3),
        // 1700810754682999999 ns as a Double is …683000064: through a Double this would be …683 ms.
        PhoneSample(
          timestamp: 1_700_810_754_682, x: 1.3325852155685425, y: -0.22067803144454956, z: 0.1253643035888672),
        PhoneSample(timestamp: 1_700_810_754_683, x: 4, y: 5, z: 6),
      ])
    #expect(result.rejected.isEmpty)
    #expect(Int64(Double(1_700_810_754_682_999_999) / 1e6) == 1_700_810_754_683)
  }

  @Test func sensorLoggerCSVStreamIsTakenFromTheFileName() throws {
    let text = "time,seconds_elapsed,z,y,x\n1700810755062863000,0.43,8.77,4.37,-0.39\n"
    let total = try read(text, path: "TotalAcceleration.csv")
    #expect(total.gravity == .included)
    #expect(total.stream == "TotalAcceleration")

    for name in ["Gravity.csv", "AccelerometerUncalibrated.csv", "Gyroscope.csv", "MagnetometerUncalibrated.csv"] {
      let error = importError { try read(text, path: name) }
      guard case .unsupportedStream = error else {
        Issue.record("\(name): \(String(describing: error))")
        continue
      }
    }
    #expect(
      importError { try read(text, path: "AccelerometerUncalibrated.csv") }?.description.contains("in g on iOS") == true
    )
    #expect(importError { try read(text, path: "walk.csv") } == .ambiguousSensor(path: "walk.csv"))
    #expect(try read(text, path: "walk.csv", sensor: .totalAcceleration).gravity == .included)
    let conflict = importError { try read(text, path: "Accelerometer.csv", sensor: .totalAcceleration) }
    #expect(conflict == .sensorConflict(path: "Accelerometer.csv", file: .accelerometer, requested: .totalAcceleration))
  }

  @Test func sensorLoggerMetadataAndAnnotationAreRefusedClearly() throws {
    let metadata =
      "version,device name,recording time,platform,appVersion\n2,iPhone 11 Pro Max,2021-07-20_21-03-53,ios,1.6.0"
    let error = importError { try read(metadata, path: "Metadata.csv") }
    guard case .unsupportedStream(_, let stream, _) = error else {
      Issue.record("\(String(describing: error))")
      return
    }
    #expect(stream == "Metadata")
    #expect(importError { try read("", path: "Annotation.csv") } == .empty(path: "Annotation.csv"))
  }

  @Test func badSensorLoggerCSVRowsAreReported() throws {
    let text = """
      time,seconds_elapsed,z,y,x
      1700810754682863000,0.05,3.0,2.0,1.0
      1700810754692863200,0.06,3.0,2.0
      17008107546928632000000,0.07,3.0,2.0,1.0
      1.7e18x,0.08,3.0,2.0,1.0
      1700810754712863200,0.09,nan,2.0,1.0
      1700810754722863200,zero,3.0,2.0,1.0
      """
    let result = try read(text, path: "Accelerometer.csv")
    #expect(result.samples.count == 1)
    #expect(result.rejected.map(\.line) == [3, 4, 5, 6, 7])
    #expect(
      result.rejected.map(\.reason) == [.missingColumns, .timeOutOfRange, .invalidNumber, .nonFinite, .invalidNumber])
  }

  // MARK: Sensor Logger JSON

  static let sensorLoggerJSON = """
    [
    {"sensor":"Accelerometer","time":"1626807833638153700","seconds_elapsed":"0.06415380859375","z":"-0.01243628772497177","y":"0.06857698488086461","x":"-0.1709311516791582"},
    {"sensor":"Accelerometer","time":"1626807833738047200","seconds_elapsed":"-0.164047119140625","z":"3","y":"2","x":"1"},
    {"sensor":"TotalAcceleration","time":"1626807833638153700","seconds_elapsed":"0.06415380859375","z":"9.8","y":"0.5","x":"0.25"},
    {"sensor":"Gravity","time":"1626807833638153700","seconds_elapsed":"0.06415380859375","z":"-8.81","y":"-4.2","x":"0.91"},
    {"sensor":"Barometer","time":"1626807833032533800","seconds_elapsed":"-0.54146630859375","relativeAltitude":"0","pressure":"995.5316162109375"},
    {"sensor":"Metadata","version":"2","device name":"iPhone 11 Pro Max","recording time":"2021-07-20_21-03-53","platform":"ios","appVersion":"1.6.0"}
    ]

    """

  @Test func sensorLoggerJSONAllStringsPicksTotalAccelerationByDefault() throws {
    let result = try read(Self.sensorLoggerJSON, path: "2021-07-20_21-03-53.json")
    #expect(result.format == .sensorLoggerJSON)
    #expect(result.stream == "TotalAcceleration")
    #expect(result.gravity == .included)
    #expect(result.samples == [PhoneSample(timestamp: 1_626_807_833_638, x: 0.25, y: 0.5, z: 9.8)])
    #expect(result.otherRecords == ["Accelerometer": 2, "Gravity": 1, "Barometer": 1, "Metadata": 1])
    #expect(!result.isTruncated)
    #expect(result.rejected.isEmpty)

    let accelerometer = try read(Self.sensorLoggerJSON, path: "x.json", sensor: .accelerometer)
    #expect(accelerometer.gravity == .removed)
    #expect(
      accelerometer.samples == [
        PhoneSample(
          timestamp: 1_626_807_833_638, x: -0.1709311516791582, y: 0.06857698488086461, z: -0.01243628772497177),
        PhoneSample(timestamp: 1_626_807_833_738, x: 1, y: 2, z: 3),
      ])
    #expect(accelerometer.otherRecords["TotalAcceleration"] == 1)
  }

  @Test func sensorLoggerJSONWithoutTotalAccelerationFallsBackToAccelerometer() throws {
    let text = Self.sensorLoggerJSON.split(separator: "\n").filter { !$0.contains("TotalAcceleration") }
      .joined(separator: "\n")
    let result = try read(text, path: "ios.json")
    #expect(result.stream == "Accelerometer")
    #expect(result.samples.count == 2)
    let missing = importError { try read(text, path: "ios.json", sensor: .totalAcceleration) }
    guard case .sensorNotFound(_, let requested, let available) = missing else {
      Issue.record("\(String(describing: missing))")
      return
    }
    #expect(requested == .totalAcceleration)
    #expect(available.contains("Accelerometer (2)"))
  }

  @Test func sensorLoggerJSONMissingClosingBracketImportsTheCompleteRecords() throws {
    // As the real 2021 export: the last record has no comma after it and the `]` is missing.
    let text = String(Self.sensorLoggerJSON.dropLast(3)) + "\n"
    #expect(!text.contains("]"))
    let result = try read(text, path: "cut.json", sensor: .accelerometer)
    #expect(result.isTruncated)
    #expect(result.samples.count == 2)
    #expect(result.rejected.isEmpty)
    #expect(result.notes.contains { $0.contains("no closing `]`") })

    // Cut in the middle of a record: the complete records are imported, the cut one is reported.
    let cut =
      Self.sensorLoggerJSON.components(separatedBy: "{\"sensor\":\"Gravity\"")[0]
      + "{\"sensor\":\"Accelerometer\",\"time\":\"16268"
    let partial = try read(cut, path: "cut.json", sensor: .accelerometer)
    #expect(partial.isTruncated)
    #expect(partial.samples.count == 2)
    #expect(partial.rejected.map(\.reason) == [.truncated])
    #expect(partial.rejected.map(\.line) == [5])
  }

  @Test func badSensorLoggerJSONRecordsAreReportedAndReadingGoesOn() throws {
    let text = """
      [
      {"sensor":"Accelerometer","time":"1626807833638153700","seconds_elapsed":"0.1","z":"3","y":"2","x":"1"},
      {"sensor":"Accelerometer","time":"1626807833738047200","seconds_elapsed":"0.2","z":"3","y":"2"},
      {"sensor":"Accelerometer","time":"1626807833838047200","seconds_elapsed":"0.3","z":"3","y":"NaN","x":"1"},
      {"sensor":"Accelerometer","time":"1626807833938047200" "seconds_elapsed":"0.4","z":"3","y":"2","x":"1"},
      {"sensor":"Accelerometer","time":"1626807834038047200","seconds_elapsed":"0.5","z":"3","y":"2","x":"1","x":"2"},
      {"sensor":"Accelerometer","time":1626807834138047200,"seconds_elapsed":0.6,"z":3,"y":2,"x":1},
      {"sensor":"Accelerometer","time":"1626807834238047200","seconds_elapsed":"0.7","z":"3","y":null,"x":"1"},
      {"time":"1626807834338047200","z":"3","y":"2","x":"1"},
      garbage
      {"sensor":"Accelerometer","time":"1626807834438047200","seconds_elapsed":"0.9","z":"3","y":"2","x":"1"}
      ]
      """
    let result = try read(text, path: "bad.json")
    #expect(result.samples.map(\.timestamp) == [1_626_807_833_638, 1_626_807_834_138, 1_626_807_834_438])
    let expected: [(Int, PhoneRejectionReason)] = [
      (3, .missingField), (4, .nonFinite), (5, .invalidJSON), (6, .duplicateField), (8, .wrongType),
      (9, .missingField), (10, .invalidJSON),
    ]
    #expect(result.rejected.map(\.line) == expected.map(\.0))
    #expect(result.rejected.map(\.reason) == expected.map(\.1))
    #expect(result.rejected[2].rawText.hasPrefix(#"{"sensor":"Accelerometer","time":"1626807833938047200""#))
    #expect(result.rejected[6].rawText == "garbage")
  }

  // MARK: Format recognition

  @Test func formatsAreRecognisedFromTheHeader() throws {
    #expect(try PhoneExportDetector.detect(Array(Self.phyphoxHeader.utf8), path: "a.csv") == .phyphox)
    #expect(
      try PhoneExportDetector.detect(Array("time,seconds_elapsed,z,y,x\n".utf8), path: "a.csv") == .sensorLoggerCSV)
    #expect(try PhoneExportDetector.detect(Array(" \n[\n{}".utf8), path: "a.json") == .sensorLoggerJSON)
    #expect(try PhoneExportDetector.detect(Array("\u{FEFF}\(Self.phyphoxHeader)".utf8), path: "a.csv") == .phyphox)
  }

  @Test func unknownHeaderIsAClearError() throws {
    let text = "Timestamp,Milliseconds,X,Y,Z\n1,2,3,4,5\n"
    let error = importError { try read(text, path: "other.csv") }
    #expect(error == .unknownFormat(path: "other.csv", found: "Timestamp,Milliseconds,X,Y,Z"))
    let message = error?.description ?? ""
    for expected in [
      "Timestamp,Milliseconds,X,Y,Z", "\"Time (s)\"", "time,seconds_elapsed,z,y,x", "Sensor Logger JSON",
    ] {
      #expect(message.contains(expected), "\(message)")
    }
    // Our own landing lines are not a phone export either.
    let landing = #"{"user":"a@b.c","timestamp":1655564444103,"x":1.0,"y":-1.0,"z":-1.0}"#
    guard case .unknownFormat = importError({ try read(landing, path: "part.json") }) else {
      Issue.record("landing NDJSON was not refused")
      return
    }
  }

  @Test func givenFormatThatDoesNotFitIsAHeaderMismatch() throws {
    let error = importError { try read("time,seconds_elapsed,z,y,x\n", path: "Accelerometer.csv", format: .phyphox) }
    guard case .headerMismatch(_, .phyphox, let expected, let found) = error else {
      Issue.record("\(String(describing: error))")
      return
    }
    #expect(expected.contains("Time (s)"))
    #expect(found == "time,seconds_elapsed,z,y,x")
    let json = importError { try read(Self.phyphoxHeader, path: "a.csv", format: .sensorLoggerJSON) }
    guard case .headerMismatch(_, .sensorLoggerJSON, _, _) = json else {
      Issue.record("\(String(describing: json))")
      return
    }
  }

  @Test func zipAndEmptyFilesAreRefused() throws {
    let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00]
    #expect(throws: PhoneImportError.archive(path: "Aceleração.CSV")) {
      try PhoneImporter().read(zip, path: "Aceleração.CSV")
    }
    #expect(importError { try read(" \n\n", path: "x.csv") } == .empty(path: "x.csv"))
  }

  @Test func optionsThatDoNotApplyAreRefused() throws {
    let text = ([Self.phyphoxHeader] + Self.phyphoxRows).joined(separator: "\n")
    guard case .optionNotApplicable = importError({ try read(text, path: "Raw Data.csv", sensor: .accelerometer) })
    else {
      Issue.record("--sensor accepted for phyphox")
      return
    }
    let csv = "time,seconds_elapsed,z,y,x\n1,0,0,0,0\n"
    guard case .optionNotApplicable = importError({ try read(csv, path: "Accelerometer.csv", startMilliseconds: 5) })
    else {
      Issue.record("--start-ms accepted for Sensor Logger")
      return
    }
  }

  @Test func sensorNamesAreReadLeniently() {
    #expect(SensorLoggerSensor(lenient: "total-acceleration") == .totalAcceleration)
    #expect(SensorLoggerSensor(lenient: "TotalAcceleration") == .totalAcceleration)
    #expect(SensorLoggerSensor(lenient: "accelerometer") == .accelerometer)
    #expect(SensorLoggerSensor(lenient: "gravity") == nil)
  }

  @Test func exactDecimalToNanoseconds() {
    func nanoseconds(_ text: String, decimalComma: Bool = false) -> Int64? {
      let bytes = Array(text.utf8)
      guard case .value(let value) = DelimitedText.scaled(bytes, 0..<bytes.count, scale: 9, decimalComma: decimalComma)
      else { return nil }
      return value
    }
    #expect(nanoseconds("1.696884613547111E9") == 1_696_884_613_547_111_000)
    #expect(nanoseconds("1695674132.382") == 1_695_674_132_382_000_000)
    #expect(nanoseconds("1695674132,382", decimalComma: true) == 1_695_674_132_382_000_000)
    #expect(nanoseconds("1695674132,382") == nil)
    #expect(nanoseconds("3.352406400E-2") == 33_524_064)
    #expect(nanoseconds("-1.5e-9") == -2)
    #expect(nanoseconds("0.0000000004") == 0)
    #expect(nanoseconds(".5") == 500_000_000)
    #expect(nanoseconds("1e20") == nil)
    #expect(nanoseconds("1.") == 1_000_000_000)
    #expect(nanoseconds("e5") == nil)
    #expect(nanoseconds("1e") == nil)
    #expect(PhoneClock.milliseconds(fromNanoseconds: -1) == -1)
    #expect(PhoneClock.milliseconds(fromNanoseconds: 1_999_999) == 1)
  }
}

// MARK: - The real exports

/// The real phone exports described in `shared/datasets/phone-exports/SOURCES.md`, beside the repository.
enum PhoneExports {
  static let root: URL = TestPaths.sharedDataset("phone-exports")

  static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

  static func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }

  static func missing(_ relative: String) -> Comment {
    Comment(rawValue: "skipped: the real export \(path(relative)) is not on this machine (see SOURCES.md)")
  }

  /// Reads an export the way the CLI does: phyphox with the `meta/time.csv` beside it.
  static func read(_ relative: String, sensor: SensorLoggerSensor? = nil) throws -> PhoneImport {
    let file = path(relative)
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
    let timeFile = URL(fileURLWithPath: file).deletingLastPathComponent()
      .appendingPathComponent(PhoneImporter.phyphoxTimeFilePath)
    let time = FileManager.default.contents(atPath: timeFile.path).map { [UInt8]($0) }
    return try PhoneImporter(sensor: sensor, phyphoxTimeFile: time).read(bytes, path: file)
  }
}

extension PhoneImportTests {
  /// Skipped one by one, with the path in the message, when the exports are not on this machine.
  @Suite struct RealExports {
    static let p1 = "phyphox/ios-accel-with-g-iphone12/Raw Data.csv"
    static let p2 = "phyphox/android-accel-with-g-samsung/Raw Data.csv"
    static let p3 = "phyphox/ios-accel-without-g-tab/Raw Data.csv"
    static let p5 = "phyphox/android-linear-accel-gps-trimmed/Linear Acceleration.csv"
    static let s1 = "sensorlogger/android-zip-2023/"
    static let s2 = "sensorlogger/ios-2026-accelerometer/"
    static let s3 = "sensorlogger/ios-2021-csv-and-json/"

    private func check(
      _ result: PhoneImport, rows: Int, rate: Double, rateTolerance: Double = 0.1, gravity: GravityContent,
      meanMagnitude: Double? = nil
    ) {
      #expect(result.samples.count == rows)
      #expect(result.rejected.isEmpty, "\(result.rejected.prefix(3))")
      #expect(abs((result.sampleRate ?? 0) - rate) < rateTolerance, "rate \(String(describing: result.sampleRate))")
      #expect(result.gravity == gravity)
      if let meanMagnitude {
        #expect(
          abs((result.meanMagnitude ?? 0) - meanMagnitude) < 0.01,
          "mean |a| \(String(describing: result.meanMagnitude))")
      }
      #expect(result.nonIncreasingSteps == 0)
    }

    @Test(.enabled(if: PhoneExports.exists(p1), PhoneExports.missing(p1)))
    func p1IOSWithGravityCommaNoTrailingNewline() throws {
      let result = try PhoneExports.read(Self.p1)
      #expect(result.format == .phyphox)
      check(result, rows: 2314, rate: 99.7, gravity: .included, meanMagnitude: 9.74)
      // START 1.696884613547111E9 s + first row 2.407245833E-2 s.
      #expect(result.samples.first?.timestamp == 1_696_884_613_571)
      #expect(result.samples.first?.z == 9.745783539)
      #expect(result.samples.last?.timestamp == 1_696_884_636_762)
    }

    @Test(.enabled(if: PhoneExports.exists(p2), PhoneExports.missing(p2)))
    func p2AndroidWithGravity411Hz() throws {
      let result = try PhoneExports.read(Self.p2)
      check(result, rows: 7504, rate: 411.6, gravity: .included, meanMagnitude: 9.85)
      // START 1695674132.382 s (Android style) + 3.352406400E-2 s.
      #expect(result.samples.first?.timestamp == 1_695_674_132_415)
    }

    @Test(.enabled(if: PhoneExports.exists(p3), PhoneExports.missing(p3)))
    func p3IOSWithoutGravityTabSeparated() throws {
      let result = try PhoneExports.read(Self.p3)
      check(result, rows: 950, rate: 100.3, gravity: .removed, meanMagnitude: 16.8)
      #expect(result.stream == "Linear Acceleration")
    }

    @Test(.enabled(if: PhoneExports.exists(p5), PhoneExports.missing(p5)))
    func p5AndroidLinearAccelerationFourColumns() throws {
      let result = try PhoneExports.read(Self.p5)
      check(result, rows: 3000, rate: 200.0, gravity: .removed)
      // START 1767437012.314 s + 7.370882400E-2 s = …012.38770882 s.
      #expect(result.samples.first?.timestamp == 1_767_437_012_387)
    }

    @Test(.enabled(if: PhoneExports.exists(s1 + "Accelerometer.csv"), PhoneExports.missing(s1)))
    func s1AndroidSensorLoggerStreams() throws {
      let accelerometer = try PhoneExports.read(Self.s1 + "Accelerometer.csv")
      #expect(accelerometer.format == .sensorLoggerCSV)
      check(accelerometer, rows: 763, rate: 100, gravity: .removed, meanMagnitude: 0.34)
      #expect(accelerometer.samples.first?.timestamp == 1_700_810_754_682)
      #expect(accelerometer.samples.first?.x == 1.3325852155685425)

      let total = try PhoneExports.read(Self.s1 + "TotalAcceleration.csv")
      check(total, rows: 725, rate: 100, gravity: .included, meanMagnitude: 9.81)
      // All streams end on the same sample.
      #expect(total.samples.last?.timestamp == accelerometer.samples.last?.timestamp)

      for refused in ["AccelerometerUncalibrated.csv", "Metadata.csv"] {
        #expect(throws: PhoneImportError.self, "\(refused)") { try PhoneExports.read(Self.s1 + refused) }
      }
      #expect(throws: PhoneImportError.empty(path: PhoneExports.path(Self.s1 + "Annotation.csv"))) {
        try PhoneExports.read(Self.s1 + "Annotation.csv")
      }
    }

    @Test(.enabled(if: PhoneExports.exists(s2 + "Accelerometer.csv"), PhoneExports.missing(s2)))
    func s2RecentIOSAccelerometer() throws {
      let result = try PhoneExports.read(Self.s2 + "Accelerometer.csv")
      check(result, rows: 917, rate: 99.6, gravity: .removed, meanMagnitude: 0.32)
      #expect(throws: PhoneImportError.self) { try PhoneExports.read(Self.s2 + "AccelerometerUncalibrated.csv") }
    }

    @Test(.enabled(if: PhoneExports.exists(s3 + "2021-07-20_21-03-53.json"), PhoneExports.missing(s3)))
    func s3JSONWithoutClosingBracketMatchesTheCSV() throws {
      let csv = try PhoneExports.read(Self.s3 + "Accelerometer.csv")
      check(csv, rows: 69, rate: 10.0, gravity: .removed)

      let json = try PhoneExports.read(Self.s3 + "2021-07-20_21-03-53.json")
      #expect(json.format == .sensorLoggerJSON)
      #expect(json.isTruncated)
      #expect(json.rejected.isEmpty)
      #expect(json.stream == "Accelerometer")  // an iOS export: no TotalAcceleration
      #expect(json.samples == csv.samples)
      #expect(json.otherRecords["Gravity"] == 69)
      #expect(json.otherRecords["Metadata"] == 1)
      #expect(json.otherRecords["AccelerometerUncalibrated"] == 68)

      let gravityCSV = importError { try PhoneExports.read(Self.s3 + "Gravity.csv") }
      guard case .unsupportedStream(_, "Gravity", _) = gravityCSV else {
        Issue.record("\(String(describing: gravityCSV))")
        return
      }
    }
  }
}
