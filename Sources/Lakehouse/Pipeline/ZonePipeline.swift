import Foundation

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

  public init(lake: Lake, rules: ZoneRules, key: PseudonymKey) {
    self.lake = lake
    self.rules = rules
    self.key = key
  }

  /// Runs the pipeline and then the quality assertions on what it published.
  public func run(progress: (String) -> Void = { _ in }) throws(LakeError) -> PipelineSummary {
    let started = ContinuousClock.now
    var summary = PipelineSummary(profile: rules.profile)
    var quarantine: [LandingSource: [QuarantinedLine]] = [:]

    // customer_trusted
    var landingCustomers: [CustomerRecord] = []
    try scan(.customer, into: &summary, quarantine: &quarantine, progress: progress, make: { CustomerConsumer() }) {
      landingCustomers.append(contentsOf: $0.records)
    }
    summary.landingRows[.customer] = landingCustomers.count
    let customerTrusted = CustomerSelection.trusted(landingCustomers, rules: rules)
    landingCustomers = []

    // Subjects: the distinct trusted emails, sorted, so ids give a stable order.
    var subjects = ByteStringTable(expectedCount: customerTrusted.count)
    var subjectEmails: [String] = []
    var consentFrom: [Int64] = []
    for customer in customerTrusted where subjects.id(of: customer.email) == nil {
      subjects.insert(customer.email)
      subjectEmails.append(customer.email)
      consentFrom.append(rules.readingsFromConsentDate ? customer.shareWithResearchAsOfDate! : Int64.min)
    }

    // accelerometer_trusted
    var accelerometer: [AccelerometerRow] = []
    let accelerometerLines = try scan(
      .accelerometer, into: &summary, quarantine: &quarantine, progress: progress,
      make: { TrustedAccelerometerConsumer(subjects: subjects, allowedFrom: consentFrom) }
    ) { accelerometer.append(contentsOf: $0.rows) }
    summary.landingRows[.accelerometer] = accelerometerLines.accepted
    accelerometer.sortDistinct(by: <, equal: ==)

    // customers_curated: trusted customers with at least one trusted reading.
    var hasReadings = [Bool](repeating: false, count: subjectEmails.count)
    for row in accelerometer { hasReadings[Int(row.subject)] = true }
    let customersCurated = customerTrusted.filter { hasReadings[Int(subjects.id(of: $0.email)!)] }

    // Serial numbers held by curated customers, their owners, and the earliest consent among them.
    let serialNumbers = Set(customersCurated.map(\.serialNumber)).sorted()
    var serials = ByteStringTable(expectedCount: serialNumbers.count)
    for serial in serialNumbers { serials.insert(serial) }
    var owners = [[Int32]](repeating: [], count: serialNumbers.count)
    var serialAllowedFrom = [Int64](repeating: Int64.max, count: serialNumbers.count)
    for customer in customersCurated {
      let serial = Int(serials.id(of: customer.serialNumber)!)
      let subject = subjects.id(of: customer.email)!
      if !owners[serial].contains(subject) { owners[serial].append(subject) }
      serialAllowedFrom[serial] = min(serialAllowedFrom[serial], consentFrom[Int(subject)])
    }
    for index in owners.indices { owners[index].sort() }

    // step_trainer_trusted
    var stepTrainer: [StepTrainerRow] = []
    let stepLines = try scan(
      .stepTrainer, into: &summary, quarantine: &quarantine, progress: progress,
      make: { TrustedStepTrainerConsumer(serials: serials, allowedFrom: serialAllowedFrom) }
    ) { stepTrainer.append(contentsOf: $0.rows) }
    summary.landingRows[.stepTrainer] = stepLines.accepted
    stepTrainer.sortDistinct(by: <, equal: ==)

    // machine_learning_curated
    progress("joining step-trainer and phone readings")
    let curated = rules.ownerAwareJoin
      ? Self.joinOnOwnerAndTime(stepTrainer, accelerometer, owners: owners)
      : Self.joinOnTime(stepTrainer, accelerometer)

    summary.tableRows = [
      .customerTrusted: customerTrusted.count, .accelerometerTrusted: accelerometer.count,
      .customersCurated: customersCurated.count, .stepTrainerTrusted: stepTrainer.count,
      .machineLearningCurated: curated.count,
    ]

    // Publish: every table atomically, quarantine included.
    progress("publishing tables")
    try publish(.customerTrusted, rows: customerTrusted) { $0.render(into: &$1) }
    try publish(.customersCurated, rows: customersCurated) { $0.render(into: &$1) }
    try publish(.accelerometerTrusted, rows: accelerometer) { row, buffer in
      AccelerometerReading.render(
        user: subjectEmails[Int(row.subject)], timestamp: row.timestamp, x: row.x, y: row.y, z: row.z, into: &buffer)
    }
    try publish(.stepTrainerTrusted, rows: stepTrainer) { row, buffer in
      StepTrainerReading(
        sensorReadingTime: row.time, serialNumber: serialNumbers[Int(row.serial)], distanceFromObject: row.distance
      ).render(into: &buffer)
    }
    let subjectIds = subjectEmails.map { key.subjectId(email: $0) }
    let includeEmail = rules.curatedIncludesEmail
    try publish(.machineLearningCurated, rows: curated) { row, buffer in
      MachineLearningRow(
        sensorReadingTime: row.step.time, serialNumber: serialNumbers[Int(row.step.serial)],
        distanceFromObject: row.step.distance, x: row.reading.x, y: row.reading.y, z: row.reading.z,
        subjectId: subjectIds[Int(row.reading.subject)],
        user: includeEmail ? subjectEmails[Int(row.reading.subject)] : nil
      ).render(into: &buffer)
    }
    for source in LandingSource.allCases {
      try publish(folder: source.quarantineFolder, rows: quarantine[source] ?? []) { $0.render(into: &$1) }
    }

    summary.seconds = (ContinuousClock.now - started).seconds
    try RunRecord(profile: rules.profile).write(to: lake)
    progress("checking quality")
    let report = try QualityCheck(lake: lake, key: key).run()
    summary.qualityChecksRun = report.checksRun
    summary.qualityFailures = report.findings
    summary.seconds = (ContinuousClock.now - started).seconds
    return summary
  }

  // MARK: Joins

  /// Strict: a step reading pairs with phone readings at the same instant by customers who hold its serial.
  static func joinOnOwnerAndTime(
    _ steps: [StepTrainerRow], _ readings: [AccelerometerRow], owners: [[Int32]]
  ) -> [CuratedRow] {
    var rows: [CuratedRow] = []
    for step in steps {
      for subject in owners[Int(step.serial)] {
        // `readings` is sorted by (subject, timestamp, ...): find the first match by bisection.
        var low = 0
        var high = readings.count
        while low < high {
          let middle = (low + high) / 2
          let candidate = readings[middle]
          if candidate.subject < subject || (candidate.subject == subject && candidate.timestamp < step.time) {
            low = middle + 1
          } else {
            high = middle
          }
        }
        while low < readings.count, readings[low].subject == subject, readings[low].timestamp == step.time {
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

  // MARK: Reading and writing

  @discardableResult
  private func scan<Consumer: NDJSONLineConsumer>(
    _ source: LandingSource, into summary: inout PipelineSummary,
    quarantine: inout [LandingSource: [QuarantinedLine]], progress: (String) -> Void,
    make: () -> Consumer, absorb: (consuming Consumer) -> Void
  ) throws(LakeError) -> LineCounts {
    let files = try lake.tableFiles(in: source.landingFolder)
    let totalBytes = files.reduce(0) { $0 + $1.size }
    var doneBytes = 0
    var rejected: [QuarantinedLine] = []
    var reasons: [QuarantineReason: Int] = [:]
    let counts = try reader.read(
      files, makeConsumer: make, absorb: absorb,
      quarantine: { line in
        reasons[line.reason, default: 0] += 1
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
    _ table: ZoneTable, rows: [Row], render: (Row, inout NDJSONBuffer) -> Void
  ) throws(LakeError) {
    try publish(folder: table.folder, rows: rows, render: render)
  }

  /// Renders rows in parallel blocks and writes the blocks in order into a new table version.
  private func publish<Row>(
    folder: String, rows: [Row], render: (Row, inout NDJSONBuffer) -> Void
  ) throws(LakeError) {
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
      for buffer in buffers { try publisher.write(buffer.bytes) }
      start = roundEnd
    }
    try publisher.commit()
  }
}

extension Duration {
  var seconds: Double {
    let (whole, fraction) = components
    return Double(whole) + Double(fraction) / 1e18
  }
}
