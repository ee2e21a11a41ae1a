import Lakehouse

/// What a lake object is, from its key: which table of which zone, so erasure knows how to read it.
enum LakeZoneFile: String, CaseIterable, Sendable {
  case customerLanding = "customer_landing"
  case accelerometerLanding = "accelerometer_landing"
  case stepTrainerLanding = "step_trainer_landing"
  case customerTrusted = "customer_trusted"
  case customersCurated = "customers_curated"
  case accelerometerTrusted = "accelerometer_trusted"
  case stepTrainerTrusted = "step_trainer_trusted"
  case machineLearningCurated = "machine_learning_curated"
  case customerQuarantine = "customer_quarantine"
  case accelerometerQuarantine = "accelerometer_quarantine"
  case stepTrainerQuarantine = "step_trainer_quarantine"
  /// Anything else under a source's folder: read line by line for identifiers.
  case other = "other_files"

  /// The folders (key prefixes) that hold every zone's data.
  static let sourcePrefixes = LandingSource.allCases.map { "\($0.rawValue)/" }

  /// The kind of the object under `key`.
  init(key: String) {
    let parts = key.split(separator: "/", maxSplits: 2)
    guard parts.count == 3, let source = LandingSource(rawValue: String(parts[0])) else {
      self = .other
      return
    }
    switch (source, parts[1]) {
    case (.customer, "landing"): self = .customerLanding
    case (.accelerometer, "landing"): self = .accelerometerLanding
    case (.stepTrainer, "landing"): self = .stepTrainerLanding
    case (.customer, "trusted"): self = .customerTrusted
    case (.customer, "curated"): self = .customersCurated
    case (.accelerometer, "trusted"): self = .accelerometerTrusted
    case (.stepTrainer, "trusted"): self = .stepTrainerTrusted
    case (.stepTrainer, "curated"): self = .machineLearningCurated
    case (.customer, "quarantine"): self = .customerQuarantine
    case (.accelerometer, "quarantine"): self = .accelerometerQuarantine
    case (.stepTrainer, "quarantine"): self = .stepTrainerQuarantine
    default: self = .other
    }
  }

  /// The `<source>/<zone>` folder of an object below one (a table's folder), else nil.
  static func tableFolder(of key: String) -> String? {
    let parts = key.split(separator: "/", maxSplits: 2)
    guard parts.count == 3 else { return nil }
    return "\(parts[0])/\(parts[1])"
  }

  /// Whether `key` is in a Delta log folder: commit files of actions (paths, sizes, numeric
  /// statistics), never NDJSON records, so no line of them is judged as one.
  static func isDeltaLog(_ key: String) -> Bool {
    key.split(separator: "/").dropLast().contains("_delta_log")
  }

  /// Whether the object is read as NDJSON lines: neither a Delta log's file nor a Parquet data file.
  static func isLineFile(_ key: String) -> Bool { !isDeltaLog(key) && !ParquetTableFile.isDataFile(key) }

  /// Landing files keep their line numbers when lines are erased; the pipeline's outputs do not need to.
  var isLanding: Bool { self == .customerLanding || self == .accelerometerLanding || self == .stepTrainerLanding }

  var isQuarantine: Bool {
    self == .customerQuarantine || self == .accelerometerQuarantine || self == .stepTrainerQuarantine
  }
}
