import DeltaLog
import Foundation
import LakeStorage
import Parquet
import StediTestSupport
import Testing

@testable import Lakehouse

/// The pipeline's Parquet output: the NDJSON tables' rows in Hive date partitions under a Delta
/// log, rewritten only where rows changed, read back by `pipeline check`, and refused with a
/// one-line error naming the file when a file is damaged.
@Suite("Parquet tables")
struct ParquetTablesTests {
  static let day: Int64 = 86_400_000

  /// A lake with three customers (one without consent) and readings on three UTC days.
  static func writeLanding(_ lake: PrivacyLake, extraDay2Reading: Bool = false) throws {
    try lake.writeCustomers([
      PrivacyLake.customer("ann@example.com", serial: "S-1", updated: 10, consent: 5),
      PrivacyLake.customer("bob@example.com", serial: "S-2", updated: 10, consent: 5),
      PrivacyLake.customer("cid@example.com", serial: "S-3", updated: 10, consent: nil),
    ])
    var phone: [AccelerometerReading] = []
    var steps: [StepTrainerReading] = []
    for dayIndex in 0..<3 {
      for second in 0..<20 {
        let time = Int64(dayIndex) * day + 1000 * Int64(second) + 100
        for (user, serial) in [("ann@example.com", "S-1"), ("bob@example.com", "S-2"), ("cid@example.com", "S-3")] {
          phone.append(PrivacyLake.phone(user, at: time, x: Double(second) / 4, y: -1.5, z: Double(dayIndex)))
          steps.append(PrivacyLake.step(serial, at: time, distance: Double(200 + second)))
        }
      }
    }
    if extraDay2Reading {
      phone.append(PrivacyLake.phone("ann@example.com", at: 2 * day + 500_000, x: 9))
      steps.append(PrivacyLake.step("S-1", at: 2 * day + 500_000, distance: 321))
    }
    try lake.writeAccelerometer(phone)
    try lake.writeStepTrainer(steps)
  }

  /// Each row of NDJSON lines as `name=value` text, numbers as doubles, rows sorted: equal for
  /// equal rows whatever the format and file order.
  static func canonicalRows(_ bytes: [UInt8]) throws -> [String] {
    try bytes.split(separator: UInt8(ascii: "\n")).map { line in
      let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
      return object.keys.sorted().map { key in
        switch object[key] {
        case let number as NSNumber: "\(key)=\(number.doubleValue)"
        case let text as String: "\(key)=\(text)"
        default: "\(key)=null"
        }
      }.joined(separator: "|")
    }.sorted()
  }

  @Test("strict Parquet tables hold exactly the NDJSON tables' rows, partitioned by UTC date, with a Delta log")
  func sameRowsAsNDJSON() async throws {
    let ndjson = try PrivacyLake("parquet-vs-ndjson-a")
    let parquet = try PrivacyLake("parquet-vs-ndjson-b")
    defer {
      ndjson.remove()
      parquet.remove()
    }
    try Self.writeLanding(ndjson)
    try Self.writeLanding(parquet)
    let textRun = try await ndjson.run(.strict, format: .ndjson)
    let parquetRun = try await parquet.run(.strict)
    #expect(parquetRun.format == .parquet && parquetRun.published)
    #expect(parquetRun.tableRows == textRun.tableRows)
    #expect(parquetRun.tableRows[.machineLearningCurated] == 120)
    for table in ZoneTable.allCases {
      let expected = try Self.canonicalRows(try await ndjson.rawTable(table))
      let actual = try Self.canonicalRows(try await parquet.rawTable(table))
      #expect(actual == expected, "\(table.rawValue)")
      #expect(!expected.isEmpty)
    }

    let lake = try Lake(root: parquet.root)
    let dates = ["2023-11-14", "2023-11-15", "2023-11-16"]
    for table in ZoneTable.allCases {
      let schema = TableSchema.zone(table, rules: ZoneRules(profile: .strict))
      let folder = lake.path(table.folder)
      #expect(!FileManager.default.fileExists(atPath: "\(folder)/part-00000.json"))
      let snapshot = try #require(
        try await DeltaTable(storage: FileSystemStorage(root: lake.root), root: table.folder).snapshot())
      #expect(snapshot.version == 0)
      #expect(snapshot.metadata?.partitionColumns == (schema.partitionTimeColumn == nil ? [] : ["date"]))
      let files = snapshot.sortedFiles
      if schema.partitionTimeColumn != nil {
        #expect(files.map { $0.partitionValues["date"] ?? "" } == dates)
        #expect(files.allSatisfy { $0.path.hasPrefix("date=\($0.partitionValues["date"]!)/part-00000-") })
      } else {
        #expect(files.count == 1 && files[0].partitionValues.isEmpty && !files[0].path.contains("/"))
      }
      // What is on disk is what the log lists, nothing more.
      #expect(Set(ParquetTablePublisher.dataFiles(in: folder)) == Set(files.map(\.path)))
      for add in files {
        let bytes = try #require(FileManager.default.contents(atPath: "\(folder)/\(add.path)"))
        #expect(Int64(bytes.count) == add.size)
        let file = try ParquetFile(bytes: Array(bytes))
        // Columns as the NDJSON table has them, times as plain INT64, no partition column inside.
        #expect(file.schema.columns.map(\.name) == schema.columns.map(\.name))
        #expect(!file.schema.columns.contains { $0.timestampMillisUTC })
        for (column, declared) in zip(file.schema.columns, schema.columns) {
          let expectedType: ParquetType =
            switch declared.kind {
            case .int64: .int64
            case .double: .double
            case .string: .string
            }
          #expect(column.type == expectedType, "\(table.rawValue).\(column.name)")
        }
        for chunk in file.rowGroups.flatMap(\.columns) {
          #expect(chunk.codec == "ZSTD")
          #expect(chunk.statistics != nil)
        }
        // Strings are dictionary-encoded (columns of nulls only have no values to encode).
        for (index, column) in file.schema.columns.enumerated() where column.type == .string && !column.optional {
          #expect(file.rowGroups[0].columns[index].encodings.contains("RLE_DICTIONARY"), "\(column.name)")
        }
        // The Delta statistics count the file's rows and bound its times, and name no string.
        let stats = try #require(add.stats)
        let decoded = try JSONDecoder().decode(DeltaFileStatistics.self, from: Data(stats.utf8))
        #expect(decoded.numRecords == file.numRows)
        if let time = schema.partitionTimeColumn, case .integer(let low)? = decoded.minValues[time],
          case .integer(let high)? = decoded.maxValues[time]
        {
          let day = add.partitionValues["date"]!
          #expect(EpochMilliseconds.utcDate(day: EpochMilliseconds.utcDay(low)) == day)
          #expect(EpochMilliseconds.utcDate(day: EpochMilliseconds.utcDay(high)) == day)
        } else {
          #expect(schema.partitionTimeColumn == nil)
        }
        for value in Array(decoded.minValues.values) + Array(decoded.maxValues.values) {
          if case .string = value { Issue.record("a string bound in the Delta log: \(value)") }
        }
      }
    }
    #expect(try await QualityCheck(lake: lake, key: privacyTestKey).run().findings == [])
  }

  @Test("a re-run writes nothing; new rows on one day rewrite that day's partitions only")
  func incrementalPartitions() async throws {
    let lake = try PrivacyLake("parquet-incremental")
    defer { lake.remove() }
    try Self.writeLanding(lake)
    let first = try await lake.run(.strict)
    let again = try await lake.run(.strict)
    for table in ZoneTable.allCases {
      let files = try #require(again.parquetFiles[table])
      #expect(files.filesWritten == 0 && files.filesRemoved == 0, "\(table.rawValue)")
      #expect(files.version == first.parquetFiles[table]!.version)
    }
    let folder = "\(lake.root)/\(ZoneTable.accelerometerTrusted.folder)"
    let before = Set(ParquetTablePublisher.dataFiles(in: folder))

    try Self.writeLanding(lake, extraDay2Reading: true)
    let changed = try await lake.run(.strict)
    for table in [ZoneTable.accelerometerTrusted, .stepTrainerTrusted, .machineLearningCurated] {
      let files = try #require(changed.parquetFiles[table])
      #expect(files.filesWritten == 1 && files.filesRemoved == 1 && files.filesKept == 2, "\(table.rawValue)")
      #expect(files.version == 1)
    }
    #expect(changed.parquetFiles[.customerTrusted]?.filesWritten == 0)
    // The file version 1 replaced is gone once the run has committed every table: readers that
    // list the folder see the current files only.
    let after = Set(ParquetTablePublisher.dataFiles(in: folder))
    #expect(after.count == before.count)
    let added = after.subtracting(before)
    let replaced = before.subtracting(after)
    #expect(added.count == 1 && added.first!.hasPrefix("date=2023-11-16/"))
    #expect(replaced.count == 1 && replaced.first!.hasPrefix("date=2023-11-16/"))
    let snapshot = try #require(
      try await DeltaTable(storage: FileSystemStorage(root: lake.root), root: ZoneTable.accelerometerTrusted.folder)
        .snapshot())
    #expect(Set(snapshot.files.keys) == after)
    #expect(try await QualityCheck(lake: try Lake(root: lake.root), key: privacyTestKey).run().findings == [])
  }

  @Test("files the log does not name: a killed run's are removed, anyone else's are kept and reported")
  func unlistedFiles() async throws {
    let lake = try PrivacyLake("parquet-unlisted")
    defer { lake.remove() }
    try Self.writeLanding(lake)
    _ = try await lake.run(.strict)
    let folder = "\(lake.root)/\(ZoneTable.stepTrainerTrusted.folder)"
    let listed = Set(ParquetTablePublisher.dataFiles(in: folder))
    let some = try #require(listed.sorted().first)
    let bytes = try #require(FileManager.default.contents(atPath: "\(folder)/\(some)"))
    // A killed run's new file (named like ours, not committed), its temporary file, and a file
    // someone copied in by hand.
    let leftover = "date=2023-11-15/part-00007-0123456789abcdef.parquet"
    let temporary = "date=2023-11-15/.part-00008-0123456789abcdef.parquet.4242.tmp"
    let foreign = "date=2023-11-15/extra.parquet"
    for name in [leftover, temporary, foreign] {
      try bytes.write(to: URL(fileURLWithPath: "\(folder)/\(name)"))
    }
    let check = try await QualityCheck(lake: try Lake(root: lake.root), key: privacyTestKey).run()
    let finding = try #require(check.findings.first { $0.check == "listed_files" }, "\(check.findings)")
    #expect(finding.description.contains("2 such files"), "\(finding)")

    _ = try await lake.run(.strict)
    let now = Set(ParquetTablePublisher.dataFiles(in: folder))
    #expect(now == listed.union([foreign]))
    let again = try await QualityCheck(lake: try Lake(root: lake.root), key: privacyTestKey).run()
    #expect(again.findings.map(\.check) == ["listed_files"])
    #expect(again.findings.first?.description.contains(foreign) == true)
  }

  @Test("the publisher's own file names, and nothing else, are recognised as its own")
  func ownFileNames() {
    for name in [
      "part-00000-0123456789abcdef.parquet", "date=2022-01-01/part-00012-fedcba9876543210.parquet",
      "date=2022-01-01/.part-00012-fedcba9876543210.parquet.77.tmp",
    ] {
      #expect(ParquetTablePublisher.isOwnFile(name), "\(name)")
    }
    for name in [
      "extra.parquet", "part-0-0123456789abcdef.parquet", "part-00000-0123456789abcdeg.parquet",
      "other/part-00000-0123456789abcdef.parquet", "date=2022-01-01/x/part-00000-0123456789abcdef.parquet",
      "part-00000-0123456789abcdef.parquet.bak", ".part-00000.json.1.tmp",
    ] {
      #expect(!ParquetTablePublisher.isOwnFile(name), "\(name)")
    }
  }

  @Test("switching formats leaves one version of each table")
  func switchingFormats() async throws {
    let lake = try PrivacyLake("parquet-switch")
    defer { lake.remove() }
    try Self.writeLanding(lake)
    _ = try await lake.run(.strict, format: .ndjson)
    let text = try await lake.rawTable(.machineLearningCurated)
    _ = try await lake.run(.strict, format: .parquet)
    for table in ZoneTable.allCases {
      #expect(!FileManager.default.fileExists(atPath: "\(lake.root)/\(table.folder)/part-00000.json"))
    }
    #expect(try Self.canonicalRows(try await lake.rawTable(.machineLearningCurated)) == Self.canonicalRows(text))
    _ = try await lake.run(.strict, format: .ndjson)
    for table in ZoneTable.allCases {
      let folder = "\(lake.root)/\(table.folder)"
      #expect(!FileManager.default.fileExists(atPath: "\(folder)/_delta_log"))
      #expect(ParquetTablePublisher.dataFiles(in: folder).isEmpty)
      #expect(FileManager.default.fileExists(atPath: "\(folder)/part-00000.json"))
    }
    #expect(try await lake.rawTable(.machineLearningCurated) == text)
  }

  /// Damages one data file of machine_learning_curated.
  enum Damage: String, CaseIterable {
    case truncated, bitFlipped, zeroLength
  }

  @Test("a damaged Parquet file gives pipeline check a one-line error naming the file", arguments: Damage.allCases)
  func damagedFile(_ damage: Damage) async throws {
    let lake = try PrivacyLake("parquet-damaged-\(damage.rawValue)")
    defer { lake.remove() }
    try Self.writeLanding(lake)
    _ = try await lake.run(.strict)
    let folder = "\(lake.root)/\(ZoneTable.machineLearningCurated.folder)"
    let victim = try #require(ParquetTablePublisher.dataFiles(in: folder).sorted().last)
    let path = "\(folder)/\(victim)"
    var bytes = Array(try #require(FileManager.default.contents(atPath: path)))
    switch damage {
    case .truncated: bytes.removeLast(bytes.count / 3)
    case .zeroLength: bytes = []
    case .bitFlipped:
      // The footer's length field: the footer no longer fits, which no reader can miss.
      bytes[bytes.count - 6] ^= 0x40
    }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    do {
      _ = try await QualityCheck(lake: try Lake(root: lake.root), key: privacyTestKey).run()
      Issue.record("a damaged file was read without error")
    } catch {
      let message = error.description
      #expect(message.contains(victim), "\(message)")
      #expect(!message.contains("\n"), "\(message)")
    }
  }

  @Test("a row outside its file's date partition fails the check")
  func rowOutsideItsPartition() async throws {
    let lake = try PrivacyLake("parquet-partition")
    defer { lake.remove() }
    try Self.writeLanding(lake)
    _ = try await lake.run(.strict)
    // Move one partition's file under another date in a new version of the log.
    let table = DeltaTable(
      storage: FileSystemStorage(root: lake.root), root: ZoneTable.stepTrainerTrusted.folder)
    let snapshot = try #require(try await table.snapshot())
    var moved = snapshot.sortedFiles[0]
    let removed = DeltaRemoveFile(removing: moved, at: 1)
    moved.partitionValues = ["date": "2023-11-15"]
    _ = try await table.commit(on: snapshot, adding: [moved], removing: [removed], operation: "WRITE", atMs: 1)
    let report = try await QualityCheck(lake: try Lake(root: lake.root), key: privacyTestKey).run()
    let finding = try #require(report.findings.first { $0.check == "well_formed" })
    #expect(finding.description.contains("not in partition date=2023-11-15"), "\(finding)")
  }

  @Test("UTC dates of instants agree with Foundation's calendar, before and after 1970")
  func utcDates() {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    var generator = SystemRandomNumberGenerator()
    let samples: [Int64] =
      [0, -1, 86_399_999, 86_400_000, -86_400_000, -86_400_001, 951_782_400_000, 1_700_000_000_000]
      + (0..<500).map { _ in Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &generator) }
    for milliseconds in samples {
      let parts = calendar.dateComponents(
        [.year, .month, .day], from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
      let expected = String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
      #expect(EpochMilliseconds.utcDate(day: EpochMilliseconds.utcDay(milliseconds)) == expected, "\(milliseconds)")
    }
  }
}
