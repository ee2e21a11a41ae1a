import Motion

// The vocabulary of phone-recording imports: which export a file is, what came out of it, and
// why a file or a row could not be used.

/// The phone export formats the importers read.
public enum PhoneExportFormat: String, Sendable, CaseIterable {
  /// A phyphox CSV export (`Raw Data.csv` or a multi-sensor set's CSV), with its `meta/time.csv`.
  case phyphox
  /// One Sensor Logger CSV stream (`Accelerometer.csv`, `TotalAcceleration.csv`).
  case sensorLoggerCSV = "sensorlogger-csv"
  /// A Sensor Logger JSON export: one array of flat objects from every sensor.
  case sensorLoggerJSON = "sensorlogger-json"

  /// The name a person knows the format by.
  public var displayName: String {
    switch self {
    case .phyphox: "phyphox CSV"
    case .sensorLoggerCSV: "Sensor Logger CSV"
    case .sensorLoggerJSON: "Sensor Logger JSON"
    }
  }
}

/// The two Sensor Logger streams that hold acceleration in m/s².
///
/// `AccelerometerUncalibrated` is not one of them: on iOS it is in g, on Android in m/s², and the
/// file alone does not say which, so it is refused rather than guessed.
public enum SensorLoggerSensor: String, Sendable, CaseIterable {
  /// `Accelerometer`: the phone's acceleration with gravity removed (both iOS and Android).
  case accelerometer = "Accelerometer"
  /// `TotalAcceleration`: acceleration including gravity (Android only).
  case totalAcceleration = "TotalAcceleration"

  /// Reads a sensor name leniently: case, `-`, `_` and spaces do not matter
  /// (`TotalAcceleration`, `total-acceleration`, `total_acceleration`).
  public init?(lenient name: String) {
    let folded = String(name.lowercased().filter { $0 != "-" && $0 != "_" && $0 != " " })
    guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == folded }) else { return nil }
    self = match
  }

  /// Whether the stream holds gravity.
  public var gravity: GravityContent {
    switch self {
    case .accelerometer: .removed
    case .totalAcceleration: .included
    }
  }
}

/// Whether the imported accelerations include gravity (≈ 9.81 m/s² at rest) or have it removed.
public enum GravityContent: String, Sendable, Equatable {
  /// Raw acceleration: a phone lying still reads about 9.81 m/s².
  case included
  /// Linear acceleration: a phone lying still reads about 0.
  case removed
  /// Neither the column names nor the file name say which.
  case unknown

  /// A short phrase for summaries.
  public var phrase: String {
    switch self {
    case .included: "gravity included"
    case .removed: "gravity removed (linear acceleration)"
    case .unknown: "gravity unknown (the file does not say)"
    }
  }
}

/// Why a row (a CSV line or a JSON record) was not imported.
public enum PhoneRejectionReason: String, Sendable, CaseIterable, Equatable {
  /// The row has fewer fields than the header.
  case missingColumns = "missing_columns"
  /// The row has more fields than the header.
  case extraColumns = "extra_columns"
  /// The row cannot be split into fields (an unterminated quote, text after a closing quote).
  case malformedRow = "malformed_row"
  /// A field the sample needs is empty (phyphox writes `""` for a missing value).
  case missingValue = "missing_value"
  /// A field is not a number.
  case invalidNumber = "invalid_number"
  /// A number is NaN or infinite (or too large for a double).
  case nonFinite = "non_finite"
  /// A time does not fit the 64-bit nanosecond clock.
  case timeOutOfRange = "time_out_of_range"
  /// A JSON record is not valid JSON.
  case invalidJSON = "invalid_json"
  /// A JSON record was cut off by the end of the file.
  case truncated
  /// A JSON record lacks a key the sample needs.
  case missingField = "missing_field"
  /// A JSON value has the wrong type (an object, array, boolean or null where a number belongs).
  case wrongType = "wrong_type"
  /// A JSON record has the same key twice.
  case duplicateField = "duplicate_field"
}

/// A row that could not become a sample, with where it is in the file.
public struct RejectedRow: Sendable, Equatable {
  /// The 1-based line number in the file (for a JSON record: the line where the record starts).
  public var line: Int
  public var reason: PhoneRejectionReason
  /// What exactly was wrong, for a person.
  public var detail: String
  /// The row's bytes as read, without the line break.
  public var raw: [UInt8]

  public init(line: Int, reason: PhoneRejectionReason, detail: String, raw: [UInt8]) {
    self.line = line
    self.reason = reason
    self.detail = detail
    self.raw = raw
  }

  /// The raw bytes as text (invalid UTF-8 replaced), for messages.
  public var rawText: String { String(decoding: raw, as: UTF8.self) }
}

/// What came out of one phone export file.
public struct PhoneImport: Sendable {
  /// The format that was read.
  public var format: PhoneExportFormat
  /// Which stream the samples are: a phyphox column family (`Acceleration`, `Linear Acceleration`)
  /// or a Sensor Logger sensor (`Accelerometer`, `TotalAcceleration`).
  public var stream: String
  /// Whether the values include gravity. Values are never altered: this only reports what they are.
  public var gravity: GravityContent
  /// The samples in file order: epoch milliseconds and m/s².
  public var samples: [PhoneSample]
  /// Every row that was read but not imported, in line order.
  public var rejected: [RejectedRow]
  /// The sample rate in Hz: 1 / median interval, measured on the source's own (sub-millisecond) clock;
  /// nil with fewer than two samples or when the median interval is not positive.
  public var sampleRate: Double?
  /// Consecutive samples whose time does not increase (kept as they are, counted here).
  public var nonIncreasingSteps: Int
  /// Empty lines (no data, nothing lost).
  public var blankLines: Int
  /// Records of other sensors in a Sensor Logger JSON export, by sensor name (not acceleration; not imported).
  public var otherRecords: [String: Int]
  /// True when the file ended early: a Sensor Logger JSON array without its closing `]`.
  public var isTruncated: Bool
  /// Facts a person should know about the import (clock source, truncation, skipped sensors).
  public var notes: [String]

  public init(
    format: PhoneExportFormat, stream: String, gravity: GravityContent, samples: [PhoneSample],
    rejected: [RejectedRow], sampleRate: Double?, nonIncreasingSteps: Int = 0, blankLines: Int = 0,
    otherRecords: [String: Int] = [:], isTruncated: Bool = false, notes: [String] = []
  ) {
    self.format = format
    self.stream = stream
    self.gravity = gravity
    self.samples = samples
    self.rejected = rejected
    self.sampleRate = sampleRate
    self.nonIncreasingSteps = nonIncreasingSteps
    self.blankLines = blankLines
    self.otherRecords = otherRecords
    self.isTruncated = isTruncated
    self.notes = notes
  }

  /// The earliest and latest sample times (epoch ms), or nil without samples.
  public var timeRange: ClosedRange<Int64>? {
    guard let first = samples.first else { return nil }
    var low = first.timestamp
    var high = first.timestamp
    for sample in samples {
      low = min(low, sample.timestamp)
      high = max(high, sample.timestamp)
    }
    return low...high
  }

  /// The mean magnitude √(x²+y²+z²) in m/s², or nil without samples.
  public var meanMagnitude: Double? {
    guard !samples.isEmpty else { return nil }
    var sum = 0.0
    for sample in samples { sum += (sample.x * sample.x + sample.y * sample.y + sample.z * sample.z).squareRoot() }
    return sum / Double(samples.count)
  }
}

/// Why a whole file could not be imported.
public enum PhoneImportError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file has no bytes (or only white space).
  case empty(path: String)
  /// The file is a zip archive (phyphox shares its exports as zips, sometimes renamed).
  case archive(path: String)
  /// The first line matches none of the formats.
  case unknownFormat(path: String, found: String)
  /// The format was given, and the header does not fit it.
  case headerMismatch(path: String, format: PhoneExportFormat, expected: String, found: String)
  /// A Sensor Logger file of a stream that is not acceleration in m/s² (Gravity, AccelerometerUncalibrated, Metadata…).
  case unsupportedStream(path: String, stream: String, reason: String)
  /// A Sensor Logger CSV whose file name does not say which sensor it holds.
  case ambiguousSensor(path: String)
  /// `sensor` names a different stream than the Sensor Logger CSV's file name.
  case sensorConflict(path: String, file: SensorLoggerSensor, requested: SensorLoggerSensor)
  /// A Sensor Logger JSON export without records of the wanted sensor.
  case sensorNotFound(path: String, requested: SensorLoggerSensor?, available: [String])
  /// A phyphox export without its start time (no `meta/time.csv` and no explicit start).
  case missingStartTime(path: String)
  /// The phyphox `meta/time.csv` cannot be read.
  case invalidTimeFile(reason: String)
  /// An option that the format does not use.
  case optionNotApplicable(option: String, format: PhoneExportFormat)

  /// What a phyphox header looks like, for messages.
  public static let phyphoxExpectation =
    "a phyphox CSV header: a \"Time (s)\" column and x, y, z columns in m/s^2, like "
    + "\"Time (s)\",\"Acceleration x (m/s^2)\",\"Acceleration y (m/s^2)\",\"Acceleration z (m/s^2)\" "
    + "(or \"Linear Acceleration x (m/s^2)\"; separated by comma, TAB or semicolon)"
  /// What a Sensor Logger CSV header looks like, for messages.
  public static let sensorLoggerCSVExpectation = "a Sensor Logger CSV header: time,seconds_elapsed,z,y,x"
  /// What a Sensor Logger JSON export looks like, for messages.
  public static let sensorLoggerJSONExpectation =
    "a Sensor Logger JSON export: an array of objects like "
    + "[{\"sensor\":\"Accelerometer\",\"time\":\"…\",\"seconds_elapsed\":\"…\",\"z\":\"…\",\"y\":\"…\",\"x\":\"…\"}, …]"

  public var description: String {
    switch self {
    case .empty(let path):
      "\(path) is empty: there is nothing to import"
    case .archive(let path):
      "\(path) is a zip archive: unzip it and import the CSV inside (phyphox: the data CSV, keeping its meta folder beside it)"
    case .unknownFormat(let path, let found):
      "\(path) is not a phone export this tool reads. Its first line is `\(found)`\nexpected one of:\n  "
        + [Self.phyphoxExpectation, Self.sensorLoggerCSVExpectation, Self.sensorLoggerJSONExpectation]
        .joined(separator: "\n  ")
    case .headerMismatch(let path, let format, let expected, let found):
      "\(path) is not a \(format.displayName) file: expected \(expected); its first line is `\(found)`"
    case .unsupportedStream(let path, let stream, let reason):
      "\(path) holds Sensor Logger's \(stream) stream, which is not imported: \(reason)"
    case .ambiguousSensor(let path):
      "cannot tell which Sensor Logger sensor \(path) holds: the header time,seconds_elapsed,z,y,x is shared by "
        + "Accelerometer, TotalAcceleration, Gravity, Gyroscope and Magnetometer. Keep the file's original name "
        + "(Accelerometer.csv or TotalAcceleration.csv) or say which with --sensor Accelerometer|TotalAcceleration"
    case .sensorConflict(let path, let file, let requested):
      "\(path) is named as Sensor Logger's \(file.rawValue) stream, but --sensor asks for \(requested.rawValue)"
    case .sensorNotFound(let path, let requested, let available):
      "\(path) has no \(requested.map { "\($0.rawValue) records" } ?? "Accelerometer or TotalAcceleration records")"
        + "; it has records of: \(available.isEmpty ? "no sensor" : available.joined(separator: ", "))"
    case .missingStartTime(let path):
      "\(path) is a phyphox export, whose times are seconds since the experiment started; the absolute start is in "
        + "meta/time.csv beside it, which was not found. Keep the export's meta folder next to the CSV, "
        + "or give the start (epoch milliseconds) with --start-ms"
    case .invalidTimeFile(let reason):
      "the phyphox meta/time.csv cannot be used: \(reason)"
    case .optionNotApplicable(let option, let format):
      "\(option) does not apply to a \(format.displayName) file"
    }
  }
}
