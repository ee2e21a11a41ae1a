// The zone rules as Spark SQL, rendered from `ZoneRules`: the same definition the embedded
// engine executes, so the two cannot drift. Each job reads the views of the jobs before it;
// the runner registers `customer_landing`, `accelerometer_landing`, `step_trainer_landing`
// (valid rows only), `subject_pseudonyms` (email → subjectId) and the function
// `stedi_identity` (`Identity.canonical` in Python): identities are compared in canonical form,
// and tables show the least spelling (MIN, UTF-8 byte order) as the embedded engine does.

import Lakehouse

/// One zone job: the table it builds and the Spark SQL that builds it.
public struct ZoneJob: Sendable, Equatable {
  public var table: ZoneTable
  public var sql: String

  /// The jobs of a profile, in the order they must run.
  public static func jobs(for rules: ZoneRules) -> [ZoneJob] {
    ZoneTable.allCases.map { ZoneJob(table: $0, sql: ZoneSQL(rules: rules).sql(for: $0)) }
  }
}

/// Renders each zone table's query under one profile's rules.
struct ZoneSQL {
  let rules: ZoneRules

  /// customer_trusted's and customers_curated's columns, in the table's order.
  private var customerColumns: [String] { TableSchema.zone(.customerTrusted, rules: rules).columns.map(\.name) }

  /// machine_learning_curated's select list: each column from the step reading (s), the phone
  /// reading (a) or the pseudonym (p), in the table's order.
  private var curatedColumns: String {
    CuratedColumn.columns(rules: rules).map { column in
      switch column {
      case .sensorReadingTime, .serialNumber, .distanceFromObject: "s.\(column.label)"
      case .x, .y, .z: "a.\(column.label)"
      case .subjectId: "p.\(column.label)"
      case .user: "a.`\(column.label)`"
      }
    }.joined(separator: ", ")
  }

  func sql(for table: ZoneTable) -> String {
    switch table {
    case .customerTrusted: customerTrusted
    case .accelerometerTrusted: accelerometerTrusted
    case .customersCurated: customersCurated
    case .stepTrainerTrusted: stepTrainerTrusted
    case .machineLearningCurated: machineLearningCurated
    }
  }

  private var columns: String { customerColumns.joined(separator: ", ") }

  private var customerTrusted: String {
    if !rules.currentRecordPerEmail {
      return """
        -- customer_trusted (\(rules.profile.rawValue)): every distinct landing record with research consent.
        SELECT DISTINCT \(columns)
        FROM customer_landing
        WHERE shareWithResearchAsOfDate IS NOT NULL
        """
    }
    // Ties on lastUpdateDate: a record without consent wins, then the greatest record (as
    // CustomerSelection.supersedes decides), so the outcome never depends on file order.
    return """
      -- customer_trusted (\(rules.profile.rawValue)): per email the newest record is current; kept when it consents.
      SELECT \(columns)
      FROM (
        SELECT *, ROW_NUMBER() OVER (
          PARTITION BY stedi_identity(email)
          ORDER BY lastUpdateDate DESC,
                   CASE WHEN shareWithResearchAsOfDate IS NULL THEN 0 ELSE 1 END,
                   serialNumber DESC, registrationDate DESC,
                   shareWithResearchAsOfDate DESC NULLS LAST, shareWithPublicAsOfDate DESC NULLS LAST,
                   shareWithFriendsAsOfDate DESC NULLS LAST, customerName DESC NULLS LAST,
                   phone DESC NULLS LAST, birthDay DESC NULLS LAST
        ) AS currentRank
        FROM customer_landing
      ) ranked
      WHERE currentRank = 1 AND shareWithResearchAsOfDate IS NOT NULL
      """
  }

  private var accelerometerTrusted: String {
    let dateFilter = rules.readingsFromConsentDate ? "\nWHERE a.`timestamp` >= c.consentFrom" : ""
    return """
      -- accelerometer_trusted (\(rules.profile.rawValue)): distinct readings of trusted customers\(rules.readingsFromConsentDate ? ", from their consent date on" : "").
      SELECT DISTINCT c.email AS `user`, a.`timestamp`, a.x, a.y, a.z
      FROM accelerometer_landing a
      JOIN (SELECT stedi_identity(email) AS identity, MIN(email) AS email,
                   MIN(shareWithResearchAsOfDate) AS consentFrom
            FROM customer_trusted GROUP BY stedi_identity(email)) c
        ON stedi_identity(a.`user`) = c.identity\(dateFilter)
      """
  }

  private var customersCurated: String {
    """
    -- customers_curated (\(rules.profile.rawValue)): trusted customers with at least one trusted reading.
    SELECT \(customerColumns.map { "c.\($0)" }.joined(separator: ", "))
    FROM customer_trusted c
    LEFT SEMI JOIN (SELECT DISTINCT stedi_identity(`user`) AS identity FROM accelerometer_trusted) a
      ON a.identity = stedi_identity(c.email)
    """
  }

  private var stepTrainerTrusted: String {
    let dateFilter = rules.readingsFromConsentDate ? "\nWHERE s.sensorReadingTime >= o.consentFrom" : ""
    return """
      -- step_trainer_trusted (\(rules.profile.rawValue)): distinct readings of serial numbers held by curated customers\(rules.readingsFromConsentDate ? ", from the earliest owner's consent on" : "").
      SELECT DISTINCT s.sensorReadingTime, o.serialNumber, s.distanceFromObject
      FROM step_trainer_landing s
      JOIN (SELECT stedi_identity(serialNumber) AS identity, MIN(serialNumber) AS serialNumber,
                   MIN(shareWithResearchAsOfDate) AS consentFrom
            FROM customers_curated GROUP BY stedi_identity(serialNumber)) o
        ON stedi_identity(s.serialNumber) = o.identity\(dateFilter)
      """
  }

  private var machineLearningCurated: String {
    if rules.ownerAwareJoin {
      return """
        -- machine_learning_curated (\(rules.profile.rawValue)): step readings paired with phone readings at the same
        -- instant by a curated customer who holds that serial number (owner and time, not time alone).
        SELECT DISTINCT \(curatedColumns)
        FROM step_trainer_trusted s
        JOIN (SELECT DISTINCT stedi_identity(serialNumber) AS serialIdentity, stedi_identity(email) AS identity
              FROM customers_curated) o
          ON o.serialIdentity = stedi_identity(s.serialNumber)
        JOIN accelerometer_trusted a ON stedi_identity(a.`user`) = o.identity AND a.`timestamp` = s.sensorReadingTime
        JOIN subject_pseudonyms p ON p.email = a.`user`
        """
    }
    return """
      -- machine_learning_curated (\(rules.profile.rawValue)): step readings paired with every trusted phone reading
      -- at the same instant (the rubric's join on time alone).
      SELECT DISTINCT \(curatedColumns)
      FROM step_trainer_trusted s
      JOIN accelerometer_trusted a ON a.`timestamp` = s.sensorReadingTime
      JOIN subject_pseudonyms p ON p.email = a.`user`
      """
  }
}
