import Foundation

/// What a Sensor Logger file name says about the stream it holds.
enum SensorLoggerStream {
  case acceleration(SensorLoggerSensor)
  case unsupported(name: String, reason: String)
  case unknown

  /// From the file name (`Accelerometer.csv`, `TotalAcceleration.csv`, `Gravity.csv`…), ignoring case
  /// and any prefix before the sensor name.
  init(path: String) {
    let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    let folded = stem.lowercased().filter { $0.isLetter }
    let unsupported: [(suffix: String, name: String, reason: String)] = [
      (
        "accelerometeruncalibrated", "AccelerometerUncalibrated",
        "it is in g on iOS and in m/s² on Android, and the file does not say which; import Accelerometer.csv or TotalAcceleration.csv"
      ),
      (
        "gravity", "Gravity",
        "it is the gravity estimate alone, not the phone's acceleration; import Accelerometer.csv or TotalAcceleration.csv"
      ),
      ("gyroscopeuncalibrated", "GyroscopeUncalibrated", "it is rotation rate (rad/s), not acceleration"),
      ("gyroscope", "Gyroscope", "it is rotation rate (rad/s), not acceleration"),
      ("magnetometeruncalibrated", "MagnetometerUncalibrated", "it is magnetic field (µT), not acceleration"),
      ("magnetometer", "Magnetometer", "it is magnetic field (µT), not acceleration"),
    ]
    if let match = unsupported.first(where: { folded.hasSuffix($0.suffix) }) {
      self = .unsupported(name: match.name, reason: match.reason)
    } else if folded.hasSuffix("totalacceleration") {
      self = .acceleration(.totalAcceleration)
    } else if folded.hasSuffix("accelerometer") {
      self = .acceleration(.accelerometer)
    } else {
      self = .unknown
    }
  }
}

/// Reads one Sensor Logger CSV stream (`Accelerometer.csv` or `TotalAcceleration.csv`).
///
/// Conversions:
/// * time: the `time` column is Unix epoch NANOSECONDS, a 19-digit integer. It is read as an exact
///   64-bit integer (never through a Double) and divided by 1 000 000 rounding DOWN (floor):
///   `1700810754682863000` → `1700810754682` ms. `seconds_elapsed` (seconds since Record was tapped,
///   negative for buffered samples) is checked to be a number but not used.
/// * axes: columns are found by name, so the file's `z,y,x` order becomes x, y, z; the values are
///   m/s² and are kept as they are.
/// * gravity: `Accelerometer` has it removed, `TotalAcceleration` includes it (Sensor Logger's own
///   documentation). `AccelerometerUncalibrated` (in g on iOS), `Gravity`, `Gyroscope` and
///   `Magnetometer` share the header and are refused by their file name.
struct SensorLoggerCSVImporter {
  static let requiredColumns = ["time", "seconds_elapsed", "z", "y", "x"]

  let table: DelimitedTable
  /// The column of each lowercased header name (the first, when a name repeats).
  let columns: [String: Int]

  /// True when `names` (lowercased) are a Sensor Logger three-axis header.
  static func matches(_ names: [String]) -> Bool {
    let lowered = Set(names.map { $0.lowercased() })
    return requiredColumns.allSatisfy { lowered.contains($0) }
  }

  /// Reads the header; throws when it is not a Sensor Logger three-axis header.
  init(_ bytes: [UInt8], path: String) throws(PhoneImportError) {
    table = try DelimitedTable(bytes, path: path)
    guard Self.matches(table.names) else {
      throw table.headerMismatch(format: .sensorLoggerCSV, expected: PhoneImportError.sensorLoggerCSVExpectation)
    }
    var columns: [String: Int] = [:]
    for (index, name) in table.names.enumerated() where columns[name.lowercased()] == nil {
      columns[name.lowercased()] = index
    }
    self.columns = columns
  }

  /// Which sensor the file holds: from its name, or `requested` when the name does not say.
  func sensor(requested: SensorLoggerSensor?) throws(PhoneImportError) -> SensorLoggerSensor {
    switch SensorLoggerStream(path: table.path) {
    case .unsupported(let name, let reason):
      throw .unsupportedStream(path: table.path, stream: name, reason: reason)
    case .acceleration(let sensor):
      if let requested, requested != sensor {
        throw .sensorConflict(path: table.path, file: sensor, requested: requested)
      }
      return sensor
    case .unknown:
      guard let requested else { throw .ambiguousSensor(path: table.path) }
      return requested
    }
  }

  /// Reads the samples of `sensor`.
  func read(sensor: SensorLoggerSensor, notes: [String]) -> PhoneImport {
    let bytes = table.bytes
    let decimalComma = table.decimalComma
    let timeColumn = columns["time"]!
    let elapsedColumn = columns["seconds_elapsed"]!
    let axisColumns = [columns["x"]!, columns["y"]!, columns["z"]!]
    var times: [Int64] = []
    var values: [(Double, Double, Double)] = []
    times.reserveCapacity(table.lines.count)
    values.reserveCapacity(table.lines.count)

    let (rejected, blankLines) = table.forEachRow(
      malformedDetail: "the row cannot be split into fields (an unterminated quote?)"
    ) { fields in
      func problem<Value>(_ parse: NumberParse<Value>, column: Int, what: String) -> RowProblem? {
        table.problem(
          parse, in: fields, column: column, expected: what, outOfRange: "does not fit a 64-bit nanosecond time")
      }
      let timeParse = DelimitedText.scaled(bytes, fields[timeColumn].range, scale: 0, decimalComma: false)
      if let problem = problem(timeParse, column: timeColumn, what: "an epoch time in nanoseconds") { return problem }
      let elapsed = DelimitedText.double(bytes, fields[elapsedColumn].range, decimalComma: decimalComma)
      if let problem = problem(elapsed, column: elapsedColumn, what: "a number") { return problem }
      var axes: [Double] = []
      for column in axisColumns {
        let parse = DelimitedText.double(bytes, fields[column].range, decimalComma: decimalComma)
        if let problem = problem(parse, column: column, what: "a number") { return problem }
        if case .value(let value) = parse { axes.append(value) }
      }
      guard case .value(let time) = timeParse, axes.count == 3 else {
        return (.invalidNumber, "the row's numbers cannot be read")
      }
      times.append(time)
      values.append((axes[0], axes[1], axes[2]))
      return nil
    }
    return PhoneImport(
      format: .sensorLoggerCSV, stream: sensor.rawValue, gravity: sensor.gravity,
      samples: PhoneClock.samples(nanoseconds: times, values: values), rejected: rejected,
      sampleRate: PhoneClock.sampleRate(nanoseconds: times),
      nonIncreasingSteps: PhoneClock.nonIncreasingSteps(nanoseconds: times), blankLines: blankLines, notes: notes)
  }
}
