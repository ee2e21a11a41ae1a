import Lakehouse

/// The ingest service's paths: where each kind of record is posted, and what is read back.
public enum IngestPath {
  /// `POST`: NDJSON Step Trainer readings (device token for their serial number, or admin).
  public static let stepTrainerReadings = "/v1/step-trainer/readings"
  /// `POST`: NDJSON accelerometer readings (user token for their email, or admin).
  public static let accelerometerReadings = "/v1/accelerometer/readings"
  /// `POST`: NDJSON customer records (admin token).
  public static let customers = "/v1/customers"
  /// `GET`: the service's health (`IngestHealth`), 200 or 503.
  public static let healthz = "/healthz"
  /// `GET`: Prometheus text format.
  public static let metrics = "/metrics"
  /// `GET`: the phone capture page (`simulators/phone`); its files under `/phone/<name>`.
  public static let phone = "/phone"

  /// Every source that has a POST endpoint, in the order the service registers them.
  public static let postedSources: [LandingSource] = [.stepTrainer, .accelerometer, .customer]

  /// The path records of `source` are posted to.
  public static func records(_ source: LandingSource) -> String {
    switch source {
    case .stepTrainer: stepTrainerReadings
    case .accelerometer: accelerometerReadings
    case .customer: customers
    }
  }
}
