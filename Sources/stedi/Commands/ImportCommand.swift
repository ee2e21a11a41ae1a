import ArgumentParser
import Foundation
import Lakehouse
import Motion
import PhoneCapture

/// `stedi import`: recordings made outside the platform, brought into a lake's landing zone.
struct ImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Bring recordings made outside the platform into a lake's landing zone.",
    subcommands: [Phone.self]
  )

  /// `stedi import phone`: one phone export file becomes one accelerometer landing file.
  ///
  /// * Landing: `<lake>/accelerometer/landing/import-<first ms>-<hash>.json`, one reading per line
  ///   (`{"user":…,"timestamp":…,"x":…,"y":…,"z":…}`), samples in file order. `<first ms>` is the earliest
  ///   sample's epoch ms and `<hash>` the first 12 hex digits of the FNV-1a 64-bit hash of the source
  ///   file's bytes, so importing the same file again gives the same name and the same bytes: it
  ///   replaces itself instead of adding duplicates. Written atomically (temporary file, then rename).
  /// * Quarantine: rejected rows go to `<lake>/accelerometer/quarantine/import-<same>.json` as
  ///   quarantine entries whose `sourceFile` is the path given with --from and whose `detail` begins
  ///   with the importer's own reason (`missing_value: …`). Not `part-00000.json`: the pipeline rebuilds
  ///   that file on every run and would erase them. Importer reasons map onto the lake's categories:
  ///   missing columns/values/keys → missing_field; extra columns, broken rows and invalid JSON →
  ///   invalid_json; bad numbers, NaN/infinity, out-of-range times, wrong JSON types → wrong_type;
  ///   a cut-off record → truncated; a key twice → duplicate_field.
  /// * Exit 2, with nothing written, for a missing lake, an unreadable file, an unknown format or a
  ///   file without a single importable sample.
  struct Phone: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Import a phone accelerometer recording (phyphox or Sensor Logger) as one landing file.",
      discussion: """
        Formats: phyphox CSV (comma, TAB or semicolon; decimal point or comma; the start time is read \
        from meta/time.csv beside the CSV), Sensor Logger CSV (Accelerometer.csv, TotalAcceleration.csv) \
        and Sensor Logger JSON (the accelerometer records of the array; a missing closing ] is accepted \
        as a cut-off export).

        Times become epoch milliseconds, rounded down. Values stay in m/s² as recorded; the summary says \
        whether they include gravity.

        The samples go to accelerometer/landing/import-<first ms>-<hash of the file>.json: importing \
        the same file again rewrites the same file. Rejected rows go to \
        accelerometer/quarantine/import-<same>.json, apart from the part-00000.json that every pipeline \
        run rebuilds.
        """)

    @Option(name: .customLong("from"), help: ArgumentHelp("The export file to import.", valueName: "file"))
    var source: String

    @Option(help: ArgumentHelp("The customer's email, written into every reading.", valueName: "email"))
    var user: String

    @Option(help: ArgumentHelp("The lake folder (it must exist).", valueName: "dir"))
    var lake: String

    @Option(help: "The file's format; auto recognises it from the first line.")
    var format: PhoneFormatChoice = .auto

    @Option(
      help: ArgumentHelp(
        "Sensor Logger stream: which records of a JSON export, or what a renamed CSV holds.",
        discussion: "Default for JSON: TotalAcceleration when the export has it (Android), else Accelerometer.",
        valueName: "Accelerometer|TotalAcceleration"))
    var sensor: SensorLoggerSensorChoice?

    @Option(
      name: .customLong("start-ms"),
      help: ArgumentHelp(
        "phyphox only: the experiment's start in epoch milliseconds, when meta/time.csv is not beside the file.",
        valueName: "epoch-ms"))
    var startMilliseconds: Int64?

    func validate() throws {
      guard !user.isEmpty, user.trimmingCharacters(in: .whitespacesAndNewlines) == user,
        !user.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\u{7F}" }), user.contains("@")
      else {
        throw ValidationError("--user must be the customer's email address (like name@example.com), got '\(user)'")
      }
    }

    func run() throws {
      let lake = try runReportingLakeErrors { try Lake(root: self.lake) }
      let bytes = try readSource()
      let importer = PhoneImporter(
        format: format.format, sensor: sensor?.sensor, phyphoxTimeFile: phyphoxTimeFile(),
        phyphoxStartMilliseconds: startMilliseconds)
      let result: PhoneImport
      do {
        result = try importer.read(bytes, path: source)
      } catch {
        throw fail(error.description)
      }
      guard let range = result.timeRange else {
        var message = "\(source) has no importable sample; nothing was written"
        if !result.rejected.isEmpty {
          message += " (\(result.rejected.count) rows rejected, for example:"
          for row in result.rejected.prefix(3) {
            message += "\n  line \(row.line): \(row.reason.rawValue): \(row.detail)"
          }
          message += ")"
        }
        throw fail(message)
      }

      let name = "import-\(range.lowerBound)-\(Self.shortHash(bytes)).json"
      let landingFolder = lake.path(LandingSource.accelerometer.landingFolder)
      let landingPath = "\(landingFolder)/\(name)"
      let quarantinePath = lake.path("\(LandingSource.accelerometer.quarantineFolder)/\(name)")

      var landing = NDJSONBuffer(capacity: result.samples.count * (user.utf8.count + 90))
      for sample in result.samples {
        AccelerometerReading(user: user, timestamp: sample.timestamp, x: sample.x, y: sample.y, z: sample.z)
          .render(into: &landing)
      }
      var quarantine = NDJSONBuffer()
      for row in result.rejected {
        QuarantinedLine(
          sourceFile: source, line: row.line, reason: Self.quarantineReason(row.reason),
          detail: "\(row.reason.rawValue): \(row.detail)", raw: row.raw
        ).render(into: &quarantine)
      }

      let unchanged = FileManager.default.contents(atPath: landingPath) == Data(landing.bytes)
      try runReportingLakeErrors {
        if !unchanged { try TablePublisher.replaceFile(at: landingPath, with: landing.bytes) }
        if !quarantine.isEmpty {
          if FileManager.default.contents(atPath: quarantinePath) != Data(quarantine.bytes) {
            try TablePublisher.replaceFile(at: quarantinePath, with: quarantine.bytes)
          }
        } else if FileManager.default.fileExists(atPath: quarantinePath) {
          // An earlier import of these bytes rejected rows that this one accepts.
          try? FileManager.default.removeItem(atPath: quarantinePath)
        }
      }
      let siblings = ((try? FileManager.default.contentsOfDirectory(atPath: landingFolder)) ?? [])
        .filter { $0 != name && $0.hasPrefix("import-") && $0.hasSuffix("-\(Self.shortHash(bytes)).json") }
        .sorted()

      print(
        summary(
          result, range: range, landing: landingPath, unchanged: unchanged,
          quarantine: quarantine.isEmpty ? nil : quarantinePath, siblings: siblings))
    }

    /// The source file's bytes, or exit 2 saying why they cannot be read.
    private func readSource() throws -> [UInt8] {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
        throw fail("cannot read \(source): no such file")
      }
      guard !isDirectory.boolValue else { throw fail("cannot read \(source): it is a folder, not an export file") }
      do {
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
      } catch {
        throw fail("cannot read \(source): \((error as NSError).localizedDescription)")
      }
    }

    /// phyphox's `meta/time.csv` beside the source, if it is there.
    private func phyphoxTimeFile() -> [UInt8]? {
      let folder = URL(fileURLWithPath: source).deletingLastPathComponent()
      let path = folder.appendingPathComponent(PhoneImporter.phyphoxTimeFilePath).path
      return FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    private func summary(
      _ result: PhoneImport, range: ClosedRange<Int64>, landing: String, unchanged: Bool, quarantine: String?,
      siblings: [String]
    ) -> String {
      let seconds = Double(range.upperBound - range.lowerBound) / 1000
      var lines = [
        "imported \(source) (\(result.format.displayName), \(result.stream)) for \(user)",
        "  samples imported  \(result.samples.count)",
        "  rows rejected     \(result.rejected.count)",
        "  time range        \(EpochMilliseconds.iso8601(range.lowerBound)) to \(EpochMilliseconds.iso8601(range.upperBound)) "
          + "(\(String(format: "%.3f", seconds)) s)",
        "  rate              \(result.sampleRate.map { String(format: "%.2f Hz", $0) } ?? "n/a (fewer than two distinct times)")",
        "  gravity           \(Self.gravityText(result.gravity))",
        "  landing file      \(landing)\(unchanged ? " (unchanged: this file was already imported)" : "")",
        "  quarantine file   "
          + (quarantine.map { "\($0) (not part-00000.json, which every pipeline run rebuilds)" } ?? "none"),
      ]
      for row in result.rejected.prefix(5) {
        lines.append("  rejected line \(row.line): \(row.reason.rawValue): \(row.detail)")
      }
      if result.rejected.count > 5 { lines.append("  … and \(result.rejected.count - 5) more rejected rows") }
      if result.nonIncreasingSteps > 0 {
        lines.append("  note: \(result.nonIncreasingSteps) samples do not move forward in time (kept as recorded)")
      }
      for note in result.notes { lines.append("  note: \(note)") }
      for sibling in siblings {
        lines.append("  note: the same file was also imported as \(sibling) (another --sensor or --start-ms?)")
      }
      return lines.joined(separator: "\n")
    }

    static func gravityText(_ gravity: GravityContent) -> String {
      switch gravity {
      case .included: "included"
      case .removed: "removed (linear acceleration)"
      case .unknown: "unknown (neither the columns nor the file name say)"
      }
    }

    /// Writes `message` to stderr; the caller throws the exit code 2 it returns.
    private func fail(_ message: String) -> ExitCode {
      FileHandle.standardError.write(Data("stedi: error: \(message)\n".utf8))
      return ExitCode(2)
    }

    /// 12 hex digits of the FNV-1a 64-bit hash of `bytes`: enough to tell exports apart, stable across runs.
    static func shortHash(_ bytes: [UInt8]) -> String {
      var hash: UInt64 = 0xCBF2_9CE4_8422_2325
      for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01B3
      }
      let hex = String(hash >> 16, radix: 16)
      return String(repeating: "0", count: 12 - hex.count) + hex
    }

    /// The lake's quarantine category for an importer reason (the exact reason stays in `detail`).
    static func quarantineReason(_ reason: PhoneRejectionReason) -> QuarantineReason {
      switch reason {
      case .missingColumns, .missingValue, .missingField: .missingField
      case .extraColumns, .malformedRow, .invalidJSON: .invalidJSON
      case .invalidNumber, .nonFinite, .timeOutOfRange, .wrongType: .wrongType
      case .truncated: .truncated
      case .duplicateField: .duplicateField
      }
    }

  }
}

/// `--format` values.
enum PhoneFormatChoice: String, CaseIterable, ExpressibleByArgument {
  case auto
  case phyphox
  case sensorLoggerCSV = "sensorlogger-csv"
  case sensorLoggerJSON = "sensorlogger-json"

  var format: PhoneExportFormat? {
    switch self {
    case .auto: nil
    case .phyphox: .phyphox
    case .sensorLoggerCSV: .sensorLoggerCSV
    case .sensorLoggerJSON: .sensorLoggerJSON
    }
  }
}

/// `--sensor` values: Sensor Logger stream names, read leniently (`TotalAcceleration`, `total-acceleration`).
struct SensorLoggerSensorChoice: ExpressibleByArgument {
  var sensor: SensorLoggerSensor

  init?(argument: String) {
    guard let sensor = SensorLoggerSensor(lenient: argument) else { return nil }
    self.sensor = sensor
  }

  static var allValueStrings: [String] { SensorLoggerSensor.allCases.map(\.rawValue) }
}
