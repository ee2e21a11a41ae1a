import Lakehouse

/// The file format the exported jobs write the zone tables in (quarantine stays NDJSON in both).
public enum ExportFormat: String, CaseIterable, Sendable {
  /// Parquet, in the layout `stedi pipeline run --format parquet` writes (see `ExportLayout`).
  case parquet
  /// One JSON object per line, as the udacity profile and the seed project have it.
  case ndjson

  /// What `stedi pipeline run` writes by default under a profile: Parquet for strict, NDJSON for
  /// udacity (the rubric's tables are JSON).
  public static func `default`(for profile: PipelineProfile) -> ExportFormat {
    switch profile {
    case .strict: .parquet
    case .udacity: .ndjson
    }
  }
}

/// The Parquet layout of the zone tables, as the embedded engine writes it: the customer tables
/// unpartitioned; the reading tables partitioned Hive-style (`date=YYYY-MM-DD/` folders) by the UTC
/// calendar date of their time column, a partition column only (not stored inside the files).
enum ExportLayout {
  /// The name of the partition column (and of the `date=` folders).
  static let partitionColumn = "date"

  /// The time column (epoch milliseconds) whose UTC date partitions `table`, or nil when it is not partitioned.
  static func partitionTime(_ table: ZoneTable) -> String? {
    switch table {
    case .customerTrusted, .customersCurated: nil
    case .accelerometerTrusted: "timestamp"
    case .stepTrainerTrusted, .machineLearningCurated: CuratedColumn.sensorReadingTime.label
    }
  }

  /// The Spark SQL expression of a row's partition value: its time column's UTC date, yyyy-MM-dd.
  /// Needs the session time zone set to UTC (both runners set it).
  static func partitionExpression(_ table: ZoneTable) -> String? {
    partitionTime(table).map { "date_format(timestamp_millis(`\($0)`), 'yyyy-MM-dd')" }
  }
}
