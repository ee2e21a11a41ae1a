// The lake's tables as the Glue Data Catalog knows them, and the Athena statements that declare
// them (`stedi pipeline export --target athena`). The Glue jobs read their inputs through the same
// declarations, so a table's columns are written down once, here.

import Lakehouse

/// A column of a lake table, typed as the catalog declares it.
public struct CatalogColumn: Sendable, Equatable {
  public enum Kind: String, Sendable {
    /// Epoch milliseconds.
    case bigint
    /// x, y, z and distanceFromObject.
    case double
    case string
  }

  public var name: String
  public var kind: Kind
  /// A landing row without a value here is rejected (quarantined), as the embedded engine does.
  public var required: Bool

  public init(_ name: String, _ kind: Kind, required: Bool) {
    self.name = name
    self.kind = kind
    self.required = required
  }
}

/// A table of the lake under the name the catalog (and STEDI's data engineers) use.
public struct CatalogTable: Sendable, Equatable {
  public var name: String
  /// The folder relative to the lake root.
  public var folder: String
  public var columns: [CatalogColumn]
  /// Landing tables hold raw arrivals, which are validated on read.
  public var isLanding: Bool

  /// The columns of a landing source, with the fields a row must have.
  public static func landing(_ source: LandingSource) -> CatalogTable {
    let columns: [CatalogColumn]
    switch source {
    case .customer:
      columns = [
        CatalogColumn("customerName", .string, required: false), CatalogColumn("email", .string, required: true),
        CatalogColumn("phone", .string, required: false), CatalogColumn("birthDay", .string, required: false),
        CatalogColumn("serialNumber", .string, required: true),
        CatalogColumn("registrationDate", .bigint, required: true),
        CatalogColumn("lastUpdateDate", .bigint, required: true),
        CatalogColumn("shareWithResearchAsOfDate", .bigint, required: false),
        CatalogColumn("shareWithPublicAsOfDate", .bigint, required: false),
        CatalogColumn("shareWithFriendsAsOfDate", .bigint, required: false),
      ]
    case .accelerometer:
      columns = [
        CatalogColumn("user", .string, required: true), CatalogColumn("timestamp", .bigint, required: true),
        CatalogColumn("x", .double, required: true), CatalogColumn("y", .double, required: true),
        CatalogColumn("z", .double, required: true),
      ]
    case .stepTrainer:
      columns = [
        CatalogColumn("sensorReadingTime", .bigint, required: true),
        CatalogColumn("serialNumber", .string, required: true),
        CatalogColumn("distanceFromObject", .double, required: true),
      ]
    }
    return CatalogTable(name: source.landingTableName, folder: source.landingFolder, columns: columns, isLanding: true)
  }

  /// The columns a zone table has under `rules` (the select lists of its `ZoneJob`).
  public static func zone(_ table: ZoneTable, rules: ZoneRules) -> CatalogTable {
    let customer = landing(.customer).columns
    let accelerometer = landing(.accelerometer).columns
    let columns: [CatalogColumn]
    switch table {
    case .customerTrusted, .customersCurated:
      columns = ZoneSQL.customerColumns.map { name in customer.first { $0.name == name }! }
    case .accelerometerTrusted:
      columns = accelerometer
    case .stepTrainerTrusted:
      columns = landing(.stepTrainer).columns
    case .machineLearningCurated:
      columns =
        landing(.stepTrainer).columns + accelerometer.filter { ["x", "y", "z"].contains($0.name) }
        + [CatalogColumn("subjectId", .string, required: true)]
        + (rules.curatedIncludesEmail ? [CatalogColumn("user", .string, required: false)] : [])
    }
    return CatalogTable(name: table.rawValue, folder: table.folder, columns: columns, isLanding: false)
  }

  /// Every table of the lake: the three landing tables, then the zone tables in job order.
  public static func all(rules: ZoneRules) -> [CatalogTable] {
    LandingSource.allCases.map { landing($0) } + ZoneTable.allCases.map { zone($0, rules: rules) }
  }

  /// The table called `name` under `rules`, if the lake has one.
  public static func named(_ name: String, rules: ZoneRules) -> CatalogTable? {
    all(rules: rules).first { $0.name == name }
  }
}

/// The Athena statements of `stedi pipeline export --target athena`.
enum AthenaStatements {
  /// The placeholder for the lake's S3 location in every LOCATION clause.
  static let bucketPlaceholder = "${bucket}"

  static func createTables(rules: ZoneRules) -> String {
    let tables = CatalogTable.all(rules: rules).map { table in
      let columns = table.columns.map { "  `\($0.name)` \($0.kind.rawValue)" }.joined(separator: ",\n")
      // Landing is where malformed lines arrive; without this one bad line fails every query of the table.
      let malformed = table.isLanding ? "\nWITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')" : ""
      return """
        -- \(table.name): \(table.isLanding ? "raw arrivals" : "written by the \(table.name) job")
        CREATE EXTERNAL TABLE IF NOT EXISTS \(table.name) (
        \(columns)
        )
        ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\(malformed)
        LOCATION 's3://\(bucketPlaceholder)/\(table.folder)/'
        TBLPROPERTIES ('classification' = 'json');
        """
    }
    return """
      -- Generated by `stedi pipeline export --target athena --profile \(rules.profile.rawValue)`. Do not edit:
      -- the tables are declared in stedi (CatalogTable); regenerate instead.
      --
      -- The Glue Data Catalog tables of STEDI's lake (\(rules.profile.rawValue) profile): three landing tables and the
      -- five tables the zone jobs write. The Glue jobs read their inputs through these declarations.
      --
      -- \(bucketPlaceholder): the lake's S3 root without s3:// and without a trailing slash, a bucket or
      -- bucket/prefix (the Glue jobs' --lake is s3://\(bucketPlaceholder)). Replace it before running, e.g.
      --   sed 's|\(bucketPlaceholder)|my-stedi-lake/prod|g' create_tables.sql
      -- Athena runs one statement per query: run them one by one in the database the jobs' --database names
      -- (CREATE DATABASE IF NOT EXISTS stedi first, if needed).
      --
      -- Types: bigint for epoch milliseconds, double for x/y/z/distanceFromObject, string for the rest.
      -- The JSON SerDe matches keys case-insensitively (Athena lower-cases column names).
      -- machine_learning_curated carries `user` (the email) only under the udacity profile.

      \(tables.joined(separator: "\n\n"))

      """
  }

  /// A column name in Athena's DML (Trino): `user` and `timestamp` are reserved words there.
  private static func quoted(_ name: String) -> String {
    ["user", "timestamp"].contains(name) ? "\"\(name)\"" : name
  }

  /// The landing columns that hold times (epoch milliseconds), checked against the valid range.
  static let landingTimes: Set<String> = [
    "registrationDate", "lastUpdateDate", "shareWithResearchAsOfDate", "shareWithPublicAsOfDate",
    "shareWithFriendsAsOfDate", "timestamp", "sensorReadingTime",
  ]

  static func validateFunnel(rules: ZoneRules) -> String {
    let tables = CatalogTable.all(rules: rules)
    let funnel = tables.enumerated().map { step, table in
      // Landing counts only the rows the jobs accept (the required fields present, emails shaped like
      // addresses, times from 2000 to a day ahead, as the validation has it).
      var valid = table.columns.filter { table.isLanding && $0.required }.map { "\(quoted($0.name)) IS NOT NULL" }
      let email = [
        LandingSource.customer.landingTableName: "email", LandingSource.accelerometer.landingTableName: "user",
      ]
      if let column = email[table.name] {
        valid.append("regexp_like(trim(\(quoted(column))), '^[^@]+@[^@\\s]+$')")
      }
      if table.isLanding {
        let latest = "CAST(to_unixtime(current_timestamp) * 1000 AS bigint) + 86400000"
        for column in table.columns where Self.landingTimes.contains(column.name) {
          let name = quoted(column.name)
          let inRange = "\(name) BETWEEN 946684800000 AND \(latest)"
          valid.append(column.required ? inRange : "(\(name) IS NULL OR \(inRange))")
        }
      }
      let filter = valid.isEmpty ? "" : " WHERE \(valid.joined(separator: " AND "))"
      return
        "SELECT \(step + 1) AS step, '\(table.name)' AS table_name, COUNT(*) AS row_count FROM \(table.name)\(filter)"
    }.joined(separator: "\nUNION ALL\n")

    let strict = rules.readingsFromConsentDate
    // (check, promised by this profile, query giving the number of violating rows)
    var checks: [(name: String, promised: Bool, sql: String)] = [
      (
        "customer_trusted rows without research consent", true,
        "SELECT COUNT(*) FROM customer_trusted WHERE shareWithResearchAsOfDate IS NULL"
      ),
      (
        "accelerometer_trusted rows of no trusted customer", true,
        """
        SELECT COUNT(*) FROM accelerometer_trusted a
          WHERE NOT EXISTS (SELECT 1 FROM customer_trusted c WHERE c.email = a."user")
        """
      ),
      (
        "customers_curated rows without a trusted reading", true,
        """
        SELECT COUNT(*) FROM customers_curated c
          WHERE NOT EXISTS (SELECT 1 FROM accelerometer_trusted a WHERE a."user" = c.email)
        """
      ),
      (
        "machine_learning_curated rows whose serialNumber no curated customer holds", true,
        """
        SELECT COUNT(*) FROM machine_learning_curated m
          WHERE NOT EXISTS (SELECT 1 FROM customers_curated c WHERE c.serialNumber = m.serialNumber)
        """
      ),
      (
        "accelerometer_trusted readings before the customer's consent", strict,
        """
        SELECT COUNT(*) FROM accelerometer_trusted a
          JOIN (SELECT email, MIN(shareWithResearchAsOfDate) AS consentFrom FROM customer_trusted GROUP BY email) c
            ON a."user" = c.email
          WHERE a."timestamp" < c.consentFrom
        """
      ),
      (
        "step_trainer_trusted readings before the earliest owner's consent", strict,
        """
        SELECT COUNT(*) FROM step_trainer_trusted s
          JOIN (SELECT serialNumber, MIN(shareWithResearchAsOfDate) AS consentFrom FROM customers_curated
                GROUP BY serialNumber) o
            ON s.serialNumber = o.serialNumber
          WHERE s.sensorReadingTime < o.consentFrom
        """
      ),
      (
        "machine_learning_curated subjectIds that are emails", true,
        "SELECT COUNT(*) FROM machine_learning_curated WHERE subjectId LIKE '%@%'"
      ),
    ]
    if rules.curatedIncludesEmail {
      checks.append(
        (
          "machine_learning_curated rows carrying an email in user", false,
          "SELECT COUNT(*) FROM machine_learning_curated WHERE \"user\" IS NOT NULL"
        ))
    }
    let privacy = checks.map { check in
      let query = check.sql.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n")
      return """
        SELECT '\(check.name.replacing("'", with: "''"))' AS check_name, '\(check.promised ? "must be 0" : "not promised by \(rules.profile.rawValue)")' AS expectation,
          (
        \(query)
          ) AS violations
        """
    }.joined(separator: "\nUNION ALL\n")

    return """
      -- Generated by `stedi pipeline export --target athena --profile \(rules.profile.rawValue)`. Do not edit; regenerate.
      --
      -- Checks of the lake after the Glue jobs ran, over the tables of create_tables.sql. Athena runs one
      -- statement per query: run the two queries one by one.

      -- 1. The funnel: rows per table, landing to curated, in one result. Landing counts the rows the jobs
      --    accept (required fields present); rejected lines are in the <source>/quarantine folders.
      \(funnel)
      ORDER BY step;

      -- 2. The privacy checks: each row counts the rows that break a rule. The rows marked "must be 0" are
      --    what the \(rules.profile.rawValue) profile promises; any other number there is a failure.
      \(privacy);

      """
  }
}
