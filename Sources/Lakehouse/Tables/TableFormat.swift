/// How the pipeline writes its trusted and curated tables.
public enum TableFormat: String, Sendable, Codable, CaseIterable {
  /// One `part-00000.json` per table, a JSON object per line: what the public rubric's tables are.
  case ndjson
  /// ZSTD Parquet files under a Delta Lake log, reading tables partitioned by UTC date.
  case parquet

  /// The format a profile writes unless told otherwise: Parquet for strict (the lake STEDI's
  /// readers query), NDJSON for udacity (the rubric's tables are JSON).
  public static func standard(for profile: PipelineProfile) -> TableFormat {
    profile == .strict ? .parquet : .ndjson
  }
}
