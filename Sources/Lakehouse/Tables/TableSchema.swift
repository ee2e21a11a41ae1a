// Every table's columns are written down here and nowhere else: the pipeline's writers, the
// record decoders' required fields, the Spark/Glue/Athena export and the compliance audit read
// them from here, so a column added or renamed in one place cannot be missed in another.

/// A table of the lake under the name STEDI's data engineers use, with its columns in order.
public struct TableSchema: Sendable, Equatable {
  public var name: String
  /// The folder relative to the lake root.
  public var folder: String
  public var columns: [TableColumn]
  /// Landing tables hold raw arrivals, which are validated on read.
  public var isLanding: Bool
  /// The epoch-ms column whose UTC date partitions the table's Parquet files (`date=YYYY-MM-DD/`):
  /// the reading tables have one, customer tables are small and have none.
  public var partitionTimeColumn: String?

  public init(
    name: String, folder: String, columns: [TableColumn], isLanding: Bool, partitionTimeColumn: String? = nil
  ) {
    self.name = name
    self.folder = folder
    self.columns = columns
    self.isLanding = isLanding
    self.partitionTimeColumn = partitionTimeColumn
  }

  /// The Hive partition column of Parquet tables, holding the UTC date of `partitionTimeColumn`.
  public static let partitionColumnName = "date"

  /// The columns of a landing source, with the fields a row must have.
  public static func landing(_ source: LandingSource) -> TableSchema {
    let columns: [TableColumn]
    switch source {
    case .customer:
      columns = [
        TableColumn("customerName", .string, required: false, identifiesPerson: true),
        TableColumn("email", .string, required: true, identifiesPerson: true),
        TableColumn("phone", .string, required: false, identifiesPerson: true),
        TableColumn("birthDay", .string, required: false, identifiesPerson: true),
        TableColumn("serialNumber", .string, required: true),
        TableColumn("registrationDate", .int64, required: true),
        TableColumn("lastUpdateDate", .int64, required: true),
        TableColumn("shareWithResearchAsOfDate", .int64, required: false),
        TableColumn("shareWithPublicAsOfDate", .int64, required: false),
        TableColumn("shareWithFriendsAsOfDate", .int64, required: false),
      ]
    case .accelerometer:
      columns = [
        TableColumn("user", .string, required: true, identifiesPerson: true),
        TableColumn("timestamp", .int64, required: true),
        TableColumn("x", .double, required: true),
        TableColumn("y", .double, required: true),
        TableColumn("z", .double, required: true),
      ]
    case .stepTrainer:
      columns = [
        TableColumn("sensorReadingTime", .int64, required: true),
        TableColumn("serialNumber", .string, required: true),
        TableColumn("distanceFromObject", .double, required: true),
      ]
    }
    return TableSchema(name: source.landingTableName, folder: source.landingFolder, columns: columns, isLanding: true)
  }

  /// The columns a zone table has under `rules`: trusted tables keep their landing table's
  /// columns; machine_learning_curated has `CuratedColumn`'s.
  public static func zone(_ table: ZoneTable, rules: ZoneRules) -> TableSchema {
    let columns: [TableColumn]
    let partitionTime: String?
    switch table {
    case .customerTrusted, .customersCurated:
      columns = landing(.customer).columns
      partitionTime = nil
    case .accelerometerTrusted:
      columns = landing(.accelerometer).columns
      partitionTime = "timestamp"
    case .stepTrainerTrusted:
      columns = landing(.stepTrainer).columns
      partitionTime = "sensorReadingTime"
    case .machineLearningCurated:
      columns = CuratedColumn.columns(rules: rules).map(\.column)
      partitionTime = CuratedColumn.sensorReadingTime.label
    }
    return TableSchema(
      name: table.rawValue, folder: table.folder, columns: columns, isLanding: false,
      partitionTimeColumn: partitionTime)
  }

  /// Every table of the lake: the three landing tables, then the zone tables in job order.
  public static func all(rules: ZoneRules) -> [TableSchema] {
    LandingSource.allCases.map { landing($0) } + ZoneTable.allCases.map { zone($0, rules: rules) }
  }

  /// The table called `name` under `rules`, if the lake has one.
  public static func named(_ name: String, rules: ZoneRules) -> TableSchema? {
    all(rules: rules).first { $0.name == name }
  }

  /// The names of the columns that identify a person directly, in any table.
  public static let personIdentifyingColumns: Set<String> = Set(
    LandingSource.allCases.flatMap { landing($0).columns }.filter(\.identifiesPerson).map(\.name))
}
