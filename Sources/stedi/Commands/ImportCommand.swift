import ArgumentParser
import Foundation
import Lakehouse
import PhoneCapture

/// `stedi import`: recordings made outside the platform, brought into a lake's landing zone.
struct ImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Bring recordings made outside the platform into a lake's landing zone.",
    subcommands: [Phone.self]
  )

  /// `stedi import phone`: one phone export file becomes one accelerometer landing file
  /// (`PhoneCapture`'s `PhoneImportRun` says where and how).
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
      let lake = try CommandFailure.reporting { try Lake(root: self.lake) }
      let importer = PhoneImporter(
        format: format.format, sensor: sensor?.sensor, phyphoxStartMilliseconds: startMilliseconds)
      do {
        print(try PhoneImportRun(source: source, user: user, lake: lake, importer: importer).run().summary)
      } catch {
        throw CommandFailure.report("\(error.description)")
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
