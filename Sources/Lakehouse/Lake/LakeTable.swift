/// A landing source: the three streams that arrive in the lake.
public enum LandingSource: String, CaseIterable, Sendable, Codable {
  case customer
  case accelerometer
  case stepTrainer = "step_trainer"

  /// The landing table's folder, relative to the lake root.
  public var landingFolder: String { "\(rawValue)/landing" }
  /// Where malformed landing lines of this source go, relative to the lake root.
  public var quarantineFolder: String { "\(rawValue)/quarantine" }
  /// The landing table's name as STEDI's data engineers know it.
  public var landingTableName: String { "\(rawValue)_landing" }
}

/// A table the zone pipeline writes, with the names STEDI's data engineers already use.
public enum ZoneTable: String, CaseIterable, Sendable, Codable {
  case customerTrusted = "customer_trusted"
  case accelerometerTrusted = "accelerometer_trusted"
  case customersCurated = "customers_curated"
  case stepTrainerTrusted = "step_trainer_trusted"
  case machineLearningCurated = "machine_learning_curated"

  /// The table's folder, relative to the lake root.
  public var folder: String {
    switch self {
    case .customerTrusted: "customer/trusted"
    case .accelerometerTrusted: "accelerometer/trusted"
    case .customersCurated: "customer/curated"
    case .stepTrainerTrusted: "step_trainer/trusted"
    case .machineLearningCurated: "step_trainer/curated"
    }
  }
}
