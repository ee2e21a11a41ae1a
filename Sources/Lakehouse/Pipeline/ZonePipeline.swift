import Foundation
import LakeStorage
import Parquet

/// Builds every zone of a filesystem lake from its landing tables under one profile's rules.
///
/// Each run recomputes all tables from all landing files, so re-runs are idempotent and adding
/// files gives what a fresh run gives; each table is published atomically (`TablePublisher`).
public struct ZonePipeline: Sendable {
  public let lake: Lake
  public let rules: ZoneRules
  public let key: PseudonymKey
  public var reader = NDJSONTableReader()
  /// Rows rendered per parallel block when writing tables.
  public var renderBlockSize = 32 * 1024
  /// The run's clock: landing times more than a day after it are quarantined (tests set it).
  public var now: @Sendable () -> Date = { Date() }
  /// How the trusted and curated tables are written (quarantine is always NDJSON: raw lines).
  public var format: TableFormat
  /// Rows per Parquet data file: a day's partition of more rows is split into several files,
  /// which are encoded on all cores.
  public var rowsPerParquetFile = 1_000_000
  /// Rows per Parquet row group (the unit readers skip by statistics).
  public var rowsPerParquetRowGroup = 1_000_000

  /// A pipeline over `lake` writing the format `rules`' profile writes by default.
  public init(lake: Lake, rules: ZoneRules, key: PseudonymKey, format: TableFormat? = nil) {
    self.lake = lake
    self.rules = rules
    self.key = key
    self.format = format ?? TableFormat.standard(for: rules.profile)
  }

  /// Runs the pipeline: builds every table, asserts the rules on them, and publishes them only if all hold.
  public func run(progress: (String) -> Void = { _ in }) async throws(StorageError) -> PipelineSummary {
    let started = ContinuousClock.now
    let lock = try LakeLock(lake: lake)
    defer { withExtendedLifetime(lock) {} }
    var summary = PipelineSummary(profile: rules.profile, format: format)
    let times = RecordTimeWindow(now: now())
    var quarantine: [LandingSource: [QuarantinedLine]] = [:]
    // Erased customers stay out however their records come back (a re-delivered batch, a copied
    // file): their customer records are refused here, which keeps every table downstream clear.
    var erasures = try Self.erasureMatcher(lake: lake)

    // customer_trusted
    var landingCustomers: [CustomerRecord] = []
    try scan(
      .customer, into: &summary, quarantine: &quarantine, erasures: &erasures, progress: progress,
      make: { CustomerConsumer(times: times) }
    ) {
      landingCustomers.append(contentsOf: $0.records)
    }
    summary.landingRows[.customer] = landingCustomers.count
    if !erasures.isEmpty {
      let before = landingCustomers.count
      landingCustomers.removeAll { erasures.isErased(email: $0.email) }
      summary.erasedRecordsRefused = before - landingCustomers.count
    }
    let customerTrusted = CustomerSelection.trusted(landingCustomers, rules: rules)

    // Subjects: the distinct trusted emails in table (email) order, so ids give a stable order.
    let subjects = ZoneTables.dictionaries(trusted: customerTrusted, curated: []).subjects
    // Keys are canonical identities; tables show each customer's email as their trusted records
    // spell it (the least spelling in byte order when they differ, as the Spark export's MIN does).
    var subjectEmails = [String?](repeating: nil, count: subjects.count)
    for customer in customerTrusted {
      let subject = Int(subjects.id(ofIdentity: customer.email)!)
      subjectEmails[subject] = Self.leastSpelling(subjectEmails[subject], customer.email)
    }
    var consentFrom = [Int64](repeating: Int64.max, count: subjects.count)
    for customer in customerTrusted {
      let subject = Int(subjects.id(ofIdentity: customer.email)!)
      let from = rules.readingsFromConsentDate ? customer.shareWithResearchAsOfDate! : Int64.min
      consentFrom[subject] = min(consentFrom[subject], from)
    }

    // accelerometer_trusted
    var accelerometer: [AccelerometerRow] = []
    let accelerometerLines = try scan(
      .accelerometer, into: &summary, quarantine: &quarantine, erasures: &erasures, progress: progress,
      make: { TrustedAccelerometerConsumer(subjects: subjects, allowedFrom: consentFrom, times: times) }
    ) { accelerometer.append(contentsOf: $0.rows) }
    summary.landingRows[.accelerometer] = accelerometerLines.accepted
    progress("sorting \(accelerometer.count) accelerometer rows")
    let subjectStarts = Self.sortDistinctBySubject(&accelerometer, subjectCount: subjectEmails.count)

    // customers_curated: trusted customers with at least one trusted reading.
    let customersCurated = customerTrusted.filter { customer in
      let subject = Int(subjects.id(ofIdentity: customer.email)!)
      return subjectStarts[subject] < subjectStarts[subject + 1]
    }

    // Serial numbers held by curated customers, their owners, and the earliest consent among them.
    let serials = ZoneTables.dictionaries(trusted: [], curated: customersCurated).serials
    var serialNumbers = [String?](repeating: nil, count: serials.count)
    for customer in customersCurated {
      let serial = Int(serials.id(ofIdentity: customer.serialNumber)!)
      serialNumbers[serial] = Self.leastSpelling(serialNumbers[serial], customer.serialNumber)
    }
    var owners = [[Int32]](repeating: [], count: serials.count)
    var serialAllowedFrom = [Int64](repeating: Int64.max, count: serials.count)
    for customer in customersCurated {
      let serial = Int(serials.id(ofIdentity: customer.serialNumber)!)
      let subject = subjects.id(ofIdentity: customer.email)!
      if !owners[serial].contains(subject) { owners[serial].append(subject) }
      serialAllowedFrom[serial] = min(serialAllowedFrom[serial], consentFrom[Int(subject)])
    }
    for index in owners.indices { owners[index].sort() }
    // A serial number only an erased customer held keeps none of its readings up to the erasure;
    // later ones may come from the device's next owner.
    // A serial learned after the erasure (their record arrived late) that a curated customer
    // holds is shared: it keeps that customer's readings.
    for (index, serial) in serialNumbers.map({ $0! }).enumerated() where !erasures.isLearned(serialNumber: serial) {
      if let cutoff = erasures.cutoff(serialNumber: serial) {
        serialAllowedFrom[index] = max(serialAllowedFrom[index], cutoff == .max ? .max : cutoff + 1)
      }
    }

    // step_trainer_trusted
    var stepTrainer: [StepTrainerRow] = []
    let stepLines = try scan(
      .stepTrainer, into: &summary, quarantine: &quarantine, erasures: &erasures, progress: progress,
      make: { TrustedStepTrainerConsumer(serials: serials, allowedFrom: serialAllowedFrom, times: times) }
    ) { stepTrainer.append(contentsOf: $0.rows) }
    summary.landingRows[.stepTrainer] = stepLines.accepted
    progress("sorting \(stepTrainer.count) step-trainer rows")
    stepTrainer.sortDistinct(by: <, equal: ==)

    // machine_learning_curated
    progress("joining step-trainer and phone readings")
    let curated =
      rules.ownerAwareJoin
      ? Self.joinOnOwnerAndTime(stepTrainer, accelerometer, subjectStarts: subjectStarts, owners: owners)
      : Self.joinOnTime(stepTrainer, accelerometer)

    summary.tableRows = [
      .customerTrusted: customerTrusted.count, .accelerometerTrusted: accelerometer.count,
      .customersCurated: customersCurated.count, .stepTrainerTrusted: stepTrainer.count,
      .machineLearningCurated: curated.count,
    ]

    // Quality gate: the assertions run on the tables before anything is published, so a table
    // that breaks a rule never reaches the lake.
    progress("checking quality")
    var assertions = Assertions()
    QualityAssertions(rules: rules).check(
      ZoneTables(
        customerTrusted: customerTrusted, customersCurated: customersCurated, subjects: subjects, serials: serials,
        accelerometerTrusted: accelerometer, stepTrainerTrusted: stepTrainer, machineLearningCurated: curated),
      landingCustomers: landingCustomers, &assertions)
    landingCustomers = []
    summary.qualityChecksRun = assertions.run
    summary.qualityFailures = assertions.findings
    guard assertions.findings.isEmpty else {
      summary.seconds = (ContinuousClock.now - started).seconds
      return summary
    }

    // Publish: every table atomically, quarantine included.
    let tables = PublishedTables(
      customerTrusted: customerTrusted, customersCurated: customersCurated, accelerometer: accelerometer,
      stepTrainer: stepTrainer, curated: curated, emails: subjectEmails.map { $0! },
      serialNumbers: serialNumbers.map { $0! },
      subjectIds: subjectEmails.map { key.subjectId(email: $0!) })
    switch format {
    case .ndjson: try publishNDJSON(tables, progress: progress)
    case .parquet: summary.parquetFiles = try await publishParquet(tables, progress: progress)
    }
    for source in LandingSource.allCases {
      try publish(folder: source.quarantineFolder, rows: quarantine[source] ?? []) { $0.render(into: &$1) }
    }

    try RunRecord(profile: rules.profile, format: format).write(to: lake)
    // Every table is at its new version: the files the commits removed go now.
    for (table, outcome) in summary.parquetFiles where !outcome.removed.isEmpty {
      try await ParquetTablePublisher(lake: lake, schema: TableSchema.zone(table, rules: rules))
        .deleteRemovedFiles(outcome.removed)
    }
    summary.published = true
    summary.seconds = (ContinuousClock.now - started).seconds
    return summary
  }

  /// The lesser of two spellings of one identity in UTF-8 byte order (Swift's `<` would call NFC
  /// and NFD equal), so the shown spelling never depends on file order.
  static func leastSpelling(_ current: String?, _ candidate: String) -> String {
    guard let current else { return candidate }
    return Array(candidate.utf8).lexicographicallyPrecedes(Array(current.utf8)) ? candidate : current
  }

  // MARK: Joins

  /// Sorts rows by (subject, timestamp, x, y, z) and drops duplicates; returns where each
  /// subject's rows start (`starts[subject]..<starts[subject + 1]`).
  ///
  /// A counting sort on the subject, then each subject's few rows sorted on all cores: far
  /// cheaper than one comparison sort over millions of rows.
  static func sortDistinctBySubject(_ rows: inout [AccelerometerRow], subjectCount: Int) -> [Int] {
    var starts = [Int](repeating: 0, count: subjectCount + 1)
    for row in rows { starts[Int(row.subject) + 1] += 1 }
    for subject in 0..<subjectCount { starts[subject + 1] += starts[subject] }
    var next = starts
    var grouped = [AccelerometerRow](unsafeUninitializedCapacity: rows.count) { buffer, initialized in
      for row in rows {
        buffer.initializeElement(at: next[Int(row.subject)], to: row)
        next[Int(row.subject)] += 1
      }
      initialized = rows.count
    }
    rows = []
    let groups = 64
    grouped.withUnsafeMutableBufferPointer { buffer in
      concurrentForEach(groups) { group in
        for subject in stride(from: group, to: subjectCount, by: groups) {
          var slice = UnsafeMutableBufferPointer(rebasing: buffer[starts[subject]..<starts[subject + 1]])
          slice.sort(by: <)
        }
      }
    }
    // Drop duplicates in place and move the starts with them.
    var kept = 0
    var compactedStarts = [Int](repeating: 0, count: subjectCount + 1)
    for subject in 0..<subjectCount {
      compactedStarts[subject] = kept
      for index in starts[subject]..<starts[subject + 1] {
        if kept > compactedStarts[subject], grouped[kept - 1] == grouped[index] { continue }
        grouped[kept] = grouped[index]
        kept += 1
      }
    }
    compactedStarts[subjectCount] = kept
    grouped.removeLast(grouped.count - kept)
    rows = grouped
    return compactedStarts
  }

  /// Strict: a step reading pairs with phone readings at the same instant by customers who hold its serial.
  static func joinOnOwnerAndTime(
    _ steps: [StepTrainerRow], _ readings: [AccelerometerRow], subjectStarts: [Int], owners: [[Int32]]
  ) -> [CuratedRow] {
    var rows: [CuratedRow] = []
    rows.reserveCapacity(readings.count)
    for step in steps {
      for subject in owners[Int(step.serial)] {
        // The subject's readings are sorted by timestamp: find the first match by bisection.
        var low = subjectStarts[Int(subject)]
        var high = subjectStarts[Int(subject) + 1]
        let end = high
        while low < high {
          let middle = (low + high) / 2
          if readings[middle].timestamp < step.time { low = middle + 1 } else { high = middle }
        }
        while low < end, readings[low].timestamp == step.time {
          rows.append(CuratedRow(step: step, reading: readings[low]))
          low += 1
        }
      }
    }
    return rows
  }

  /// Udacity: a step reading pairs with every trusted phone reading at the same instant.
  static func joinOnTime(_ steps: [StepTrainerRow], _ readings: [AccelerometerRow]) -> [CuratedRow] {
    let byTime = readings.sorted { a, b in a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a < b }
    var rows: [CuratedRow] = []
    for step in steps {
      var low = 0
      var high = byTime.count
      while low < high {
        let middle = (low + high) / 2
        if byTime[middle].timestamp < step.time { low = middle + 1 } else { high = middle }
      }
      while low < byTime.count, byTime[low].timestamp == step.time {
        rows.append(CuratedRow(step: step, reading: byTime[low]))
        low += 1
      }
    }
    return rows
  }

  // MARK: Publishing

  /// The tables a run publishes, with the strings their rows' ids stand for.
  struct PublishedTables {
    var customerTrusted: [CustomerRecord]
    var customersCurated: [CustomerRecord]
    var accelerometer: [AccelerometerRow]
    var stepTrainer: [StepTrainerRow]
    var curated: [CuratedRow]
    /// By subject id: the email shown, and its pseudonym.
    var emails: [String]
    var serialNumbers: [String]
    var subjectIds: [String]
  }

  private func publishNDJSON(_ tables: PublishedTables, progress: (String) -> Void) throws(StorageError) {
    for table in ZoneTable.allCases where ZoneTableReader.format(of: table.folder, in: lake) == .parquet {
      // The table was Parquet: its log and files go, or readers would keep reading them.
      try ParquetTablePublisher.removeTable(at: lake.path(table.folder))
    }
    try publish(.customerTrusted, rows: tables.customerTrusted, progress: progress) { $0.render(into: &$1) }
    try publish(.customersCurated, rows: tables.customersCurated, progress: progress) { $0.render(into: &$1) }
    let quotedEmails = tables.emails.map { NDJSONBuffer.quoted($0) }
    let quotedSerials = tables.serialNumbers.map { NDJSONBuffer.quoted($0) }
    try publish(.accelerometerTrusted, rows: tables.accelerometer, progress: progress) { row, buffer in
      buffer.beginObject()
      buffer.field("user", quoted: quotedEmails[Int(row.subject)])
      buffer.field("timestamp", row.timestamp)
      buffer.field("x", row.x)
      buffer.field("y", row.y)
      buffer.field("z", row.z)
      buffer.endObject()
    }
    try publish(.stepTrainerTrusted, rows: tables.stepTrainer, progress: progress) { row, buffer in
      buffer.beginObject()
      buffer.field("sensorReadingTime", row.time)
      buffer.field("serialNumber", quoted: quotedSerials[Int(row.serial)])
      buffer.field("distanceFromObject", measurement: row.distance)
      buffer.endObject()
    }
    let quotedSubjectIds = tables.subjectIds.map { NDJSONBuffer.quoted($0) }
    let curatedColumns = CuratedColumn.columns(rules: rules)
    try publish(.machineLearningCurated, rows: tables.curated, progress: progress) { row, buffer in
      CuratedColumn.render(
        curatedColumns, into: &buffer, sensorReadingTime: row.step.time,
        quotedSerialNumber: quotedSerials[Int(row.step.serial)], distanceFromObject: row.step.distance,
        x: row.reading.x, y: row.reading.y, z: row.reading.z,
        quotedSubjectId: quotedSubjectIds[Int(row.reading.subject)], quotedUser: quotedEmails[Int(row.reading.subject)])
    }
  }

  private func publishParquet(
    _ tables: PublishedTables, progress: (String) -> Void
  ) async throws(StorageError) -> [ZoneTable: ParquetPublishOutcome] {
    let atMs = Int64((now().timeIntervalSince1970 * 1000).rounded(.down))
    let emails = tables.emails.map { Array($0.utf8) }
    let serials = tables.serialNumbers.map { Array($0.utf8) }
    let subjectIds = tables.subjectIds.map { Array($0.utf8) }
    var outcomes: [ZoneTable: ParquetPublishOutcome] = [:]

    func publish(
      _ table: ZoneTable, rowCount: Int, time: ((Int) -> Int64)?, sources: [String: ParquetColumnSource]
    ) async throws(StorageError) {
      progress("publishing \(table.rawValue)")
      let schema = TableSchema.zone(table, rules: rules)
      var publisher = ParquetTablePublisher(lake: lake, schema: schema)
      publisher.options.rowGroupRows = rowsPerParquetRowGroup
      let chunks = TableFileChunk.split(rowCount: rowCount, rowsPerFile: rowsPerParquetFile, time: time)
      outcomes[table] = try await publisher.publish(chunks, atMs: atMs) { chunk in
        ParquetColumnSource.columns(schema, rows: chunk.rows, sources: sources)
      }
    }

    for (table, customers) in [
      (ZoneTable.customerTrusted, tables.customerTrusted), (.customersCurated, tables.customersCurated),
    ] {
      func text(_ value: @escaping (CustomerRecord) -> String?) -> ParquetColumnSource {
        .string { value(customers[$0]).map { Array($0.utf8) } }
      }
      func number(_ value: @escaping (CustomerRecord) -> Int64?) -> ParquetColumnSource {
        .int64 { value(customers[$0]) }
      }
      try await publish(
        table, rowCount: customers.count, time: nil,
        sources: [
          "customerName": text(\.customerName), "email": text(\.email), "phone": text(\.phone),
          "birthDay": text(\.birthDay), "serialNumber": text(\.serialNumber),
          "registrationDate": number(\.registrationDate), "lastUpdateDate": number(\.lastUpdateDate),
          "shareWithResearchAsOfDate": number(\.shareWithResearchAsOfDate),
          "shareWithPublicAsOfDate": number(\.shareWithPublicAsOfDate),
          "shareWithFriendsAsOfDate": number(\.shareWithFriendsAsOfDate),
        ])
    }
    let readings = tables.accelerometer
    try await publish(
      .accelerometerTrusted, rowCount: readings.count, time: { readings[$0].timestamp },
      sources: [
        "user": .string { emails[Int(readings[$0].subject)] }, "timestamp": .int64 { readings[$0].timestamp },
        "x": .double { readings[$0].x }, "y": .double { readings[$0].y }, "z": .double { readings[$0].z },
      ])
    let steps = tables.stepTrainer
    try await publish(
      .stepTrainerTrusted, rowCount: steps.count, time: { steps[$0].time },
      sources: [
        "sensorReadingTime": .int64 { steps[$0].time }, "serialNumber": .string { serials[Int(steps[$0].serial)] },
        "distanceFromObject": .double { steps[$0].distance },
      ])
    let curated = tables.curated
    var curatedSources: [String: ParquetColumnSource] = [:]
    for column in CuratedColumn.columns(rules: rules) {
      // A switch over every column: a column added to the table does not compile until it is filled here.
      curatedSources[column.label] =
        switch column {
        case .sensorReadingTime: .int64 { curated[$0].step.time }
        case .serialNumber: .string { serials[Int(curated[$0].step.serial)] }
        case .distanceFromObject: .double { curated[$0].step.distance }
        case .x: .double { curated[$0].reading.x }
        case .y: .double { curated[$0].reading.y }
        case .z: .double { curated[$0].reading.z }
        case .subjectId: .string { subjectIds[Int(curated[$0].reading.subject)] }
        case .user: .string { emails[Int(curated[$0].reading.subject)] }
        }
    }
    try await publish(
      .machineLearningCurated, rowCount: curated.count, time: { curated[$0].step.time }, sources: curatedSources)
    return outcomes
  }

  // MARK: Reading and writing

  /// The matcher for the lake's erasure list; a list without its key is an error, never ignored.
  static func erasureMatcher(lake: Lake) throws(StorageError) -> ErasureMatcher {
    let list = try ErasureList.load(lake: lake)
    guard !list.entries.isEmpty else { return .none }
    let path = lake.path(ErasureKey.storageKey)
    guard FileManager.default.fileExists(atPath: path) else {
      throw .invalidObject(
        key: path, reason: "the lake has an erasure list but not its key; restore the key from backup")
    }
    return ErasureMatcher(list: list, key: ErasureKey(bytes: try SecretKeyFile.loadOrCreate(at: path)))
  }

  @discardableResult
  private func scan<Consumer: NDJSONLineConsumer>(
    _ source: LandingSource, into summary: inout PipelineSummary,
    quarantine: inout [LandingSource: [QuarantinedLine]], erasures: inout ErasureMatcher, progress: (String) -> Void,
    make: () -> Consumer, absorb: (consuming Consumer) -> Void
  ) throws(StorageError) -> LineCounts {
    let files = try lake.tableFiles(in: source.landingFolder)
    let totalBytes = files.reduce(0) { $0 + $1.size }
    var doneBytes = 0
    var rejected: [QuarantinedLine] = []
    var reasons: [QuarantineReason: Int] = [:]
    let counts = try reader.read(
      files, makeConsumer: make, absorb: absorb,
      quarantine: { line in
        reasons[line.reason, default: 0] += 1
        var line = line
        // A malformed line of an erased customer is still accounted for, but its contents are
        // not copied into the quarantine.
        if line.raw.withUnsafeBufferPointer({ erasures.mentionsErased($0) }) { line.withholdContents() }
        rejected.append(line)
      },
      progress: { bytes in
        doneBytes += bytes
        progress("\(source.landingTableName): \(doneBytes / 1_000_000) of \(totalBytes / 1_000_000) MB")
      })
    summary.lines[source] = counts
    summary.quarantineReasons[source] = reasons
    quarantine[source] = rejected
    return counts
  }

  private func publish<Row>(
    _ table: ZoneTable, rows: [Row], progress: (String) -> Void, render: (Row, inout NDJSONBuffer) -> Void
  ) throws(StorageError) {
    progress("publishing \(table.rawValue)")
    try publish(folder: table.folder, rows: rows, render: render)
  }

  /// Renders rows in parallel blocks and writes the blocks in order into a new table version.
  private func publish<Row>(
    folder: String, rows: [Row], render: (Row, inout NDJSONBuffer) -> Void
  ) throws(StorageError) {
    let publisher = try TablePublisher(folder: lake.path(folder))
    let blockSize = renderBlockSize
    let blocksPerRound = reader.parallelism * 2
    var start = 0
    while start < rows.count {
      let roundEnd = min(rows.count, start + blockSize * blocksPerRound)
      let blockCount = (roundEnd - start + blockSize - 1) / blockSize
      var buffers = [NDJSONBuffer](repeating: NDJSONBuffer(), count: blockCount)
      let roundStart = start
      buffers.withUnsafeMutableBufferPointer { slots in
        concurrentForEach(blockCount) { block in
          var buffer = NDJSONBuffer(capacity: blockSize * 128)
          let low = roundStart + block * blockSize
          for index in low..<min(roundEnd, low + blockSize) { render(rows[index], &buffer) }
          slots[block] = buffer
        }
      }
      try publisher.write(pieces: buffers.map(\.bytes))
      start = roundEnd
    }
    try publisher.commit()
  }
}

extension Duration {
  package var seconds: Double {
    let (whole, fraction) = components
    return Double(whole) + Double(fraction) / 1e18
  }
}
