import Foundation
import LakeStorage
import Lakehouse

/// `stedi import phone`'s work: one phone export file becomes one accelerometer landing file.
///
/// * Landing: `<lake>/accelerometer/landing/import-<first ms>-<hash>.json`, one reading per line,
///   samples in file order. `<first ms>` is the earliest sample's epoch ms and `<hash>` the first 12
///   hex digits of the FNV-1a 64-bit hash of the source file's bytes, so importing the same file
///   again gives the same name and the same bytes: it replaces itself instead of adding duplicates.
///   Written atomically (temporary file, then rename).
/// * Quarantine: rejected rows go to `<lake>/accelerometer/quarantine/import-<same>.json` as
///   quarantine entries whose `sourceFile` is the source path and whose `detail` begins with the
///   importer's own reason (`missing_value: …`). Not `part-00000.json`: the pipeline rebuilds that
///   file on every run and would erase them.
/// * Nothing is written for an unreadable file, an unknown format or a file without a single
///   importable sample.
public struct PhoneImportRun: Sendable {
  /// The export file.
  public var source: String
  /// The customer's email, written into every reading.
  public var user: String
  /// The lake that receives the samples.
  public var lake: Lake
  /// How to read the file (format, Sensor Logger stream, phyphox start); the phyphox time file
  /// beside the source is read here when the importer has none.
  public var importer: PhoneImporter

  /// An import of `source` for `user` into `lake`.
  public init(source: String, user: String, lake: Lake, importer: PhoneImporter = PhoneImporter()) {
    self.source = source
    self.user = user
    self.lake = lake
    self.importer = importer
  }

  /// Reads the file, lands its samples and quarantines its rejected rows.
  public func run() throws(PhoneImportRunError) -> PhoneImportOutcome {
    let bytes = try readSource()
    var importer = importer
    if importer.phyphoxTimeFile == nil { importer.phyphoxTimeFile = phyphoxTimeFile() }
    let result: PhoneImport
    do {
      result = try importer.read(bytes, path: source)
    } catch {
      throw .unusable(error.description)
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
      throw .unusable(message)
    }

    let hash = Self.shortHash(bytes)
    let name = "import-\(range.lowerBound)-\(hash).json"
    let landingFolder = lake.path(LandingSource.accelerometer.landingFolder)
    let landingPath = "\(landingFolder)/\(name)"
    let quarantinePath = lake.path("\(LandingSource.accelerometer.quarantineFolder)/\(name)")

    var landing = NDJSONBuffer(capacity: result.samples.count * (user.utf8.count + 90))
    for sample in result.samples {
      AccelerometerReading.render(
        user: user, timestamp: sample.timestamp, x: sample.x, y: sample.y, z: sample.z, into: &landing)
    }
    var quarantine = NDJSONBuffer()
    for row in result.rejected {
      QuarantinedLine(
        sourceFile: source, line: row.line, reason: row.reason.quarantineReason,
        detail: "\(row.reason.rawValue): \(row.detail)", raw: row.raw
      ).render(into: &quarantine)
    }

    let unchanged = FileManager.default.contents(atPath: landingPath) == Data(landing.bytes)
    do {
      if !unchanged { try TablePublisher.replaceFile(at: landingPath, with: landing.bytes) }
      if !quarantine.isEmpty {
        if FileManager.default.contents(atPath: quarantinePath) != Data(quarantine.bytes) {
          try TablePublisher.replaceFile(at: quarantinePath, with: quarantine.bytes)
        }
      } else if FileManager.default.fileExists(atPath: quarantinePath) {
        // An earlier import of these bytes rejected rows that this one accepts.
        try? FileManager.default.removeItem(atPath: quarantinePath)
      }
    } catch {
      throw .lake(error)
    }
    let siblings = ((try? FileManager.default.contentsOfDirectory(atPath: landingFolder)) ?? [])
      .filter { $0 != name && $0.hasPrefix("import-") && $0.hasSuffix("-\(hash).json") }
      .sorted()
    return PhoneImportOutcome(
      source: source, user: user, result: result, timeRange: range, landingPath: landingPath, unchanged: unchanged,
      quarantinePath: quarantine.isEmpty ? nil : quarantinePath, siblings: siblings)
  }

  /// The source file's bytes, or why they cannot be read.
  private func readSource() throws(PhoneImportRunError) -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
      throw .unreadable("cannot read \(source): no such file")
    }
    guard !isDirectory.boolValue else { throw .unreadable("cannot read \(source): it is a folder, not an export file") }
    do {
      return [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
    } catch {
      throw .unreadable("cannot read \(source): \((error as NSError).localizedDescription)")
    }
  }

  /// phyphox's `meta/time.csv` beside the source, if it is there.
  private func phyphoxTimeFile() -> [UInt8]? {
    let folder = URL(fileURLWithPath: source).deletingLastPathComponent()
    let path = folder.appendingPathComponent(PhoneImporter.phyphoxTimeFilePath).path
    return FileManager.default.contents(atPath: path).map { [UInt8]($0) }
  }

  /// 12 hex digits of the FNV-1a 64-bit hash of `bytes`: enough to tell exports apart, stable across runs.
  public static func shortHash(_ bytes: [UInt8]) -> String {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes {
      hash ^= UInt64(byte)
      hash &*= 0x0000_0100_0000_01B3
    }
    let hex = String(hash >> 16, radix: 16)
    return String(repeating: "0", count: 12 - hex.count) + hex
  }
}

/// Why an import wrote nothing.
public enum PhoneImportRunError: Error, CustomStringConvertible {
  /// The source file cannot be read; the message says which and why.
  case unreadable(String)
  /// The file was read but holds no importable sample, or is not a known export.
  case unusable(String)
  /// The lake could not be written.
  case lake(StorageError)

  public var description: String {
    switch self {
    case .unreadable(let message), .unusable(let message): message
    case .lake(let error): error.description
    }
  }
}

extension PhoneRejectionReason {
  /// The lake's quarantine category for an importer reason (the exact reason stays in `detail`).
  public var quarantineReason: QuarantineReason {
    switch self {
    case .missingColumns, .missingValue, .missingField: .missingField
    case .extraColumns, .malformedRow, .invalidJSON: .invalidJSON
    case .invalidNumber, .nonFinite, .timeOutOfRange, .wrongType: .wrongType
    case .truncated: .truncated
    case .duplicateField: .duplicateField
    }
  }
}
