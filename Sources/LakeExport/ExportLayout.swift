import Lakehouse

/// The Parquet layout of the zone tables as the exported jobs write it: the embedded engine's
/// (`TableSchema.partitionTimeColumn`, `TableSchema.partitionColumnName`), in Spark SQL. Customer
/// tables unpartitioned; the reading tables in Hive-style `date=YYYY-MM-DD/` folders by the UTC
/// calendar date of their time column, a partition column only (not stored inside the files).
enum ExportLayout {
  /// The name of the partition column (and of the `date=` folders).
  static var partitionColumn: String { TableSchema.partitionColumnName }

  /// The Spark SQL expression of a row's partition value in `table`: its time column's UTC date,
  /// yyyy-MM-dd; nil when the table is not partitioned. Needs the session time zone set to UTC
  /// (the Spark runner and the Glue jobs both set it).
  static func partitionExpression(_ table: TableSchema) -> String? {
    table.partitionTimeColumn.map { "date_format(timestamp_millis(`\($0)`), 'yyyy-MM-dd')" }
  }
}
