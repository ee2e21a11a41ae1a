/// Recognises which phone export a file is, from its first bytes and its first line.
///
/// * Sensor Logger JSON: the first non-blank byte is `[` (or `{` starting with a `"sensor"` key).
/// * Sensor Logger CSV: the header has the columns `time`, `seconds_elapsed`, `z`, `y`, `x`.
/// * phyphox CSV: the header has a `Time (s)` column and x, y, z columns in m/s² (see `PhyphoxLayout`),
///   separated by comma, TAB or semicolon, quoted or not.
///
/// A zip archive, an empty file, Sensor Logger's `Metadata.csv` and anything else give a clear error.
public enum PhoneExportDetector {
  public static func detect(_ bytes: [UInt8], path: String) throws(PhoneImportError) -> PhoneExportFormat {
    try checkNotEmptyOrArchive(bytes, path: path)
    var start = DelimitedText.contentStart(bytes)
    while start < bytes.count, FlatJSONReader.isWhitespace(bytes[start]) { start += 1 }
    if bytes[start] == UInt8(ascii: "[") { return .sensorLoggerJSON }
    if bytes[start] == UInt8(ascii: "{") {
      var reader = FlatJSONReader(bytes, at: start + 1)
      reader.skipWhitespace()
      if reader.index < bytes.count, bytes[reader.index] == UInt8(ascii: "\""), (try? reader.string()) == "sensor" {
        return .sensorLoggerJSON
      }
    }
    let lineEnd = bytes[start...].firstIndex(of: DelimitedText.newline) ?? bytes.count
    var header = start..<lineEnd
    if header.upperBound > header.lowerBound, bytes[header.upperBound - 1] == DelimitedText.carriageReturn {
      header = header.lowerBound..<(header.upperBound - 1)
    }
    let separator = DelimitedText.separator(ofHeader: bytes, header)
    let found = DelimitedText.preview(bytes, header)
    guard let names = DelimitedText.headerNames(bytes, header, separator: separator) else {
      throw .unknownFormat(path: path, found: found)
    }
    if SensorLoggerCSVImporter.matches(names) { return .sensorLoggerCSV }
    if PhyphoxLayout(names: names, path: path) != nil { return .phyphox }
    let lowered = names.map { $0.lowercased() }
    if lowered.first == "version", lowered.contains("device name") {
      throw .unsupportedStream(
        path: path, stream: "Metadata",
        reason: "it describes the recording and holds no samples; import Accelerometer.csv or TotalAcceleration.csv")
    }
    throw .unknownFormat(path: path, found: found)
  }

  static func checkNotEmptyOrArchive(_ bytes: [UInt8], path: String) throws(PhoneImportError) {
    if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B, bytes[2] == 0x03 || bytes[2] == 0x05 {
      throw .archive(path: path)
    }
    if bytes[DelimitedText.contentStart(bytes)...].allSatisfy(FlatJSONReader.isWhitespace) {
      throw .empty(path: path)
    }
  }
}

/// Turns a phone export (its bytes and its path) into `PhoneSample`s in the lake's units, plus every
/// row that could not be used.
///
/// Units and clocks (see each importer for the details):
/// * timestamps become epoch milliseconds, always by rounding epoch nanoseconds DOWN (floor):
///   phyphox: start from `meta/time.csv` + `Time (s)`; Sensor Logger: `time` (ns) ÷ 1 000 000.
/// * x, y, z are m/s² in every supported file and are kept unchanged (Sensor Logger's z,y,x column
///   order is mapped by name). Gravity is not added or removed; `PhoneImport.gravity` reports it.
///
/// The importer reads no files itself: the caller passes the bytes, and for phyphox the bytes of the
/// export's `meta/time.csv` (`phyphoxTimeFile`) or an explicit start (`phyphoxStartMilliseconds`).
public struct PhoneImporter: Sendable {
  /// Where phyphox keeps the start time, relative to the folder of the data CSV.
  public static let phyphoxTimeFilePath = "meta/time.csv"

  /// The format to read, or nil to recognise it.
  public var format: PhoneExportFormat?
  /// The Sensor Logger stream: which records of a JSON export (default TotalAcceleration if present,
  /// else Accelerometer), or which stream a CSV holds when its file name does not say.
  public var sensor: SensorLoggerSensor?
  /// The contents of the phyphox export's `meta/time.csv`.
  public var phyphoxTimeFile: [UInt8]?
  /// The phyphox experiment's start (epoch ms); wins over `phyphoxTimeFile`.
  public var phyphoxStartMilliseconds: Int64?

  public init(
    format: PhoneExportFormat? = nil, sensor: SensorLoggerSensor? = nil, phyphoxTimeFile: [UInt8]? = nil,
    phyphoxStartMilliseconds: Int64? = nil
  ) {
    self.format = format
    self.sensor = sensor
    self.phyphoxTimeFile = phyphoxTimeFile
    self.phyphoxStartMilliseconds = phyphoxStartMilliseconds
  }

  /// Reads one export file.
  public func read(_ bytes: [UInt8], path: String) throws(PhoneImportError) -> PhoneImport {
    try PhoneExportDetector.checkNotEmptyOrArchive(bytes, path: path)
    let format: PhoneExportFormat
    if let chosen = self.format {
      format = chosen
    } else {
      format = try PhoneExportDetector.detect(bytes, path: path)
    }
    switch format {
    case .phyphox:
      let importer = try PhyphoxImporter(bytes, path: path)
      if sensor != nil { throw .optionNotApplicable(option: "the sensor choice (--sensor)", format: format) }
      let clock: PhyphoxClock
      var notes: [String] = []
      if let start = phyphoxStartMilliseconds {
        let (nanoseconds, overflow) = start.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { throw .invalidTimeFile(reason: "the start \(start) ms is out of range") }
        clock = PhyphoxClock(startNanoseconds: nanoseconds)
        notes.append("clock: experiment start given as \(start) ms (epoch)")
      } else if let timeFile = phyphoxTimeFile {
        clock = try PhyphoxClock(timeCSV: timeFile)
        let first = clock.starts[0].epoch
        var note =
          "clock: experiment start from \(Self.phyphoxTimeFilePath), \(PhoneClock.milliseconds(fromNanoseconds: first)) ms (epoch)"
        if clock.starts.count > 1 {
          note +=
            "; \(clock.starts.count) START events (paused \(clock.pauses) times): each sample placed by the START before it"
        }
        notes.append(note)
      } else {
        throw .missingStartTime(path: path)
      }
      return importer.read(clock: clock, notes: notes)
    case .sensorLoggerCSV:
      let importer = try SensorLoggerCSVImporter(bytes, path: path)
      if phyphoxStartMilliseconds != nil {
        throw .optionNotApplicable(option: "a start time (--start-ms)", format: format)
      }
      return importer.read(sensor: try importer.sensor(requested: sensor), notes: [])
    case .sensorLoggerJSON:
      let importer = try SensorLoggerJSONImporter(bytes, path: path)
      if phyphoxStartMilliseconds != nil {
        throw .optionNotApplicable(option: "a start time (--start-ms)", format: format)
      }
      return try importer.read(sensor: sensor)
    }
  }
}
