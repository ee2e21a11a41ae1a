import Foundation
import LakeStorage
import StediTestSupport
import Testing

@testable import Lakehouse

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A lake in a fresh temporary folder, removed when the test is done with it.
private final class ScratchLake {
  let folder: TemporaryFolder
  var root: URL { folder.url }

  init() throws { folder = try TemporaryFolder("", prefix: "NDJSONTableReaderTests") }

  deinit { folder.remove() }

  var lake: Lake {
    get throws { try Lake(root: root.path) }
  }

  func write(_ relativePath: String, _ text: String) throws {
    try write(relativePath, bytes: Array(text.utf8))
  }

  func write(_ relativePath: String, bytes: [UInt8]) throws {
    let url = root.appendingPathComponent(relativePath)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: url)
  }
}

/// Keeps the step-trainer readings of its chunk, in line order.
private struct ReadingCollector: NDJSONLineConsumer {
  var readings: [StepTrainerReading] = []

  mutating func consume(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) {
    readings.append(try StepTrainerReading.decode(line))
  }
}

/// Everything a read reported.
private struct ReadOutcome: Equatable {
  var counts: LineCounts
  var readings: [StepTrainerReading]
  var quarantined: [QuarantinedLine]
  var consumers: Int
  var progressBytes: Int
}

private func readTable(
  _ lake: Lake, _ folder: String = "table", windowSize: Int = 32 * 1024 * 1024, minimumChunkSize: Int = 256 * 1024,
  parallelism: Int = 4
) throws -> ReadOutcome {
  var reader = NDJSONTableReader(windowSize: windowSize, parallelism: parallelism)
  reader.minimumChunkSize = minimumChunkSize
  var readings: [StepTrainerReading] = []
  var quarantined: [QuarantinedLine] = []
  var consumers = 0
  var progressBytes = 0
  let counts = try reader.read(
    try lake.tableFiles(in: folder), makeConsumer: { ReadingCollector() },
    absorb: { consumer in
      consumers += 1
      readings += consumer.readings
    },
    quarantine: { quarantined.append($0) }, progress: { progressBytes += $0 })
  #expect(counts.read == counts.accepted + counts.quarantined + counts.blank, "counts reconcile: \(counts)")
  #expect(counts.accepted == readings.count)
  #expect(counts.quarantined == quarantined.count)
  return ReadOutcome(
    counts: counts, readings: readings, quarantined: quarantined, consumers: consumers, progressBytes: progressBytes)
}

/// A valid step-trainer line whose time identifies it.
private func line(_ time: Int, serial: String = "50f7b4f3-7af5-4b07-a421-7b902c8d2b7c") -> String {
  #"{"sensorReadingTime":\#(time),"serialNumber":"\#(serial)","distanceFromObject":218}"#
}

private func reading(_ time: Int, serial: String = "50f7b4f3-7af5-4b07-a421-7b902c8d2b7c") -> StepTrainerReading {
  StepTrainerReading(sensorReadingTime: Int64(time), serialNumber: serial, distanceFromObject: 218)
}

/// A table of `lineCount` lines over `files` files where every `badEvery`th line (1-based, per file) is broken
/// and every `blankEvery`th is blank; returns what a correct reader must report.
private func writeMixedTable(
  _ lake: ScratchLake, files: Int, lineCount: Int, badEvery: Int = 7, blankEvery: Int = 11
) throws -> (readings: [StepTrainerReading], bad: [(file: String, line: Int)], blank: Int) {
  var readings: [StepTrainerReading] = []
  var bad: [(String, Int)] = []
  var blank = 0
  var time = 0
  for file in 0..<files {
    let name = "table/part-\(file).json"
    var text = ""
    for number in 1...lineCount {
      if number % badEvery == 0 {
        text += #"{"sensorReadingTime":1.5,"serialNumber":"bad","distanceFromObject":1}"# + "\n"
        bad.append((name, number))
      } else if number % blankEvery == 0 {
        text += "   \n"
        blank += 1
      } else {
        text += line(time) + "\n"
        readings.append(reading(time))
        time += 1
      }
    }
    try lake.write(name, text)
  }
  return (readings, bad, blank)
}

/// NDJSONTableReader reads every line of a table once, in order, with 1-based line numbers for what it rejects.
@Suite struct NDJSONTableReaderTests {
  @Test func lineNumbersAreOneBasedPerFile() throws {
    let lake = try ScratchLake()
    try lake.write("table/a.json", [line(0), "{bad", line(1), "[]"].joined(separator: "\n") + "\n")
    try lake.write("table/b.json", ["oops", line(2), "", #"{"sensorReadingTime":1}"#].joined(separator: "\n") + "\n")
    let outcome = try readTable(lake.lake)
    #expect(outcome.quarantined.map(\.sourceFile) == ["table/a.json", "table/a.json", "table/b.json", "table/b.json"])
    #expect(outcome.quarantined.map(\.line) == [2, 4, 1, 4])
    #expect(outcome.quarantined.map(\.reason) == [.invalidJSON, .notAnObject, .invalidJSON, .missingField])
    #expect(
      outcome.quarantined.map { String(decoding: $0.raw, as: UTF8.self) } == [
        "{bad", "[]", "oops", #"{"sensorReadingTime":1}"#,
      ])
    #expect(outcome.readings == [reading(0), reading(1), reading(2)])
    #expect(outcome.counts.read == 8)
    #expect(outcome.counts.blank == 1)
  }

  @Test(arguments: [
    (64, 1, 1), (64, 4, 1), (64, 4, 16), (97, 3, 8), (32 * 1024 * 1024, 4, 64), (32 * 1024 * 1024, 1, 256 * 1024),
  ])
  func lineNumbersAndOrderSurviveWindowsAndChunks(windowSize: Int, parallelism: Int, minimumChunkSize: Int) throws {
    let lake = try ScratchLake()
    let expected = try writeMixedTable(lake, files: 3, lineCount: 150)
    let outcome = try readTable(
      lake.lake, windowSize: windowSize, minimumChunkSize: minimumChunkSize, parallelism: parallelism)
    #expect(outcome.readings == expected.readings, "records come out in file and line order")
    #expect(outcome.quarantined.map(\.sourceFile) == expected.bad.map(\.file))
    #expect(outcome.quarantined.map(\.line) == expected.bad.map(\.line))
    #expect(outcome.quarantined.allSatisfy { $0.reason == .wrongType })
    #expect(outcome.counts.read == 450)
    #expect(outcome.counts.blank == expected.blank)
    #expect(outcome.counts.accepted == expected.readings.count)
  }

  /// Guards the tests above: the small settings they use really do cut a table into many chunks.
  @Test func smallWindowsAndChunksReallySplitTheWork() throws {
    let lake = try ScratchLake()
    _ = try writeMixedTable(lake, files: 1, lineCount: 200)
    let split = try readTable(lake.lake, windowSize: 64, minimumChunkSize: 1, parallelism: 4)
    let chunked = try readTable(lake.lake, minimumChunkSize: 64, parallelism: 4)
    #expect(split.consumers > 1)
    #expect(chunked.consumers > 1)
  }

  @Test func resultsDoNotDependOnWindowSizeOrParallelism() throws {
    let lake = try ScratchLake()
    _ = try writeMixedTable(lake, files: 4, lineCount: 300, badEvery: 5, blankEvery: 13)
    try lake.write("table/nested/zz.json", line(-1) + "\r\n\r\n" + "{\"sensorReadingTime\":")
    func comparable(_ outcome: ReadOutcome) -> ReadOutcome {
      var outcome = outcome
      outcome.consumers = 0
      return outcome
    }
    let reference = comparable(try readTable(lake.lake, parallelism: 1))
    for (windowSize, parallelism, chunk) in [
      (64, 1, 1), (64, 4, 1), (32 * 1024 * 1024, 4, 100), (1000, 4, 10), (65, 2, 7),
    ] {
      let outcome = comparable(
        try readTable(lake.lake, windowSize: windowSize, minimumChunkSize: chunk, parallelism: parallelism))
      #expect(outcome == reference, "windowSize \(windowSize), parallelism \(parallelism), minimumChunkSize \(chunk)")
    }
  }

  @Test(arguments: [1, 2, 3])
  func lineLongerThanTheWindowStillParses(position: Int) throws {
    let lake = try ScratchLake()
    let longSerial = String(repeating: "0123456789abcdef", count: 300)  // 4800 bytes
    var lines = [line(1), line(2), line(3)]
    lines[position - 1] = line(position, serial: longSerial)
    try lake.write("table/long.json", lines.joined(separator: "\n") + "\n" + "{broken\n")
    try lake.write("table/next.json", line(4) + "\n{x\n")
    let outcome = try readTable(lake.lake, windowSize: 64, minimumChunkSize: 1, parallelism: 4)
    var expected = [reading(1), reading(2), reading(3), reading(4)]
    expected[position - 1] = reading(position, serial: longSerial)
    #expect(outcome.readings == expected)
    #expect(outcome.quarantined.map(\.line) == [4, 2])
    #expect(outcome.quarantined.map(\.sourceFile) == ["table/long.json", "table/next.json"])
  }

  @Test func longLineWithoutFinalNewlineAtTheEndOfTheFile() throws {
    let lake = try ScratchLake()
    let longSerial = String(repeating: "x", count: 1000)
    try lake.write("table/a.json", line(1) + "\n" + line(2, serial: longSerial))
    let outcome = try readTable(lake.lake, windowSize: 64, minimumChunkSize: 1)
    #expect(outcome.readings == [reading(1), reading(2, serial: longSerial)])
    #expect(outcome.counts.read == 2)
  }

  @Test func crlfLineEndingsAreAccepted() throws {
    let lake = try ScratchLake()
    try lake.write("table/a.json", [line(1), line(2), "", "{bad", line(3)].joined(separator: "\r\n") + "\r\n")
    for windowSize in [64, 32 * 1024 * 1024] {
      let outcome = try readTable(lake.lake, windowSize: windowSize, minimumChunkSize: 1)
      #expect(outcome.readings == [reading(1), reading(2), reading(3)])
      #expect(outcome.counts.blank == 1)
      #expect(outcome.quarantined.map(\.line) == [4])
      #expect(outcome.quarantined.map(\.reason) == [.invalidJSON])
      #expect(outcome.counts.read == 5)
    }
  }

  @Test func completeLastLineWithoutNewlineIsAccepted() throws {
    let lake = try ScratchLake()
    try lake.write("table/a.json", line(1) + "\n" + line(2))
    let outcome = try readTable(lake.lake)
    #expect(outcome.readings == [reading(1), reading(2)])
    #expect(outcome.counts.read == 2)
    #expect(outcome.quarantined.isEmpty)
  }

  @Test(arguments: [64, 32 * 1024 * 1024])
  func cutLastLineIsQuarantinedAsTruncated(windowSize: Int) throws {
    let lake = try ScratchLake()
    let cut = String(line(3).prefix(40))
    try lake.write("table/a.json", line(1) + "\n" + line(2) + "\n" + cut)
    let outcome = try readTable(lake.lake, windowSize: windowSize)
    #expect(outcome.readings == [reading(1), reading(2)])
    #expect(outcome.quarantined.count == 1)
    #expect(outcome.quarantined.first?.line == 3)
    #expect(outcome.quarantined.first?.reason == .truncated)
    #expect(outcome.quarantined.first?.raw == Array(cut.utf8))
  }

  @Test func blankAndWhitespaceOnlyLinesAreCountedAsBlank() throws {
    let lake = try ScratchLake()
    try lake.write(
      "table/a.json", ["", line(1), " ", "\t", "  \t \r", "\r", line(2), ""].joined(separator: "\n") + "\n")
    let outcome = try readTable(lake.lake)
    #expect(outcome.counts.blank == 6)
    #expect(outcome.counts.accepted == 2)
    #expect(outcome.counts.read == 8)
    #expect(outcome.quarantined.isEmpty)
  }

  @Test func emptyFilesCountNothingAndDoNotShiftLineNumbers() throws {
    let lake = try ScratchLake()
    try lake.write("table/a.json", "")
    try lake.write("table/b.json", "{x\n")
    try lake.write("table/c.json", "\n")
    let outcome = try readTable(lake.lake)
    #expect(outcome.counts.read == 2)
    #expect(outcome.counts.blank == 1)
    #expect(outcome.quarantined.map(\.sourceFile) == ["table/b.json"])
    #expect(outcome.quarantined.map(\.line) == [1])
  }

  @Test func progressAddsUpToTheBytesOfTheTable() throws {
    let lake = try ScratchLake()
    _ = try writeMixedTable(lake, files: 3, lineCount: 50)
    try lake.write("table/tail.json", line(1) + "\n" + "{cut")
    let total = try lake.lake.tableFiles(in: "table").reduce(0) { $0 + $1.size }
    #expect(total > 0)
    #expect(try readTable(lake.lake, windowSize: 64).progressBytes == total)
    #expect(try readTable(lake.lake).progressBytes == total)
  }

  @Test(arguments: [64, 32 * 1024 * 1024])
  func fileThatGrewAfterListingIsReadToItsEnd(windowSize: Int) throws {
    let lake = try ScratchLake()
    try lake.write("table/a.json", line(1) + "\n")
    let files = try lake.lake.tableFiles(in: "table")
    let grown = (1...50).map { line($0) }.joined(separator: "\n") + "\n"
    try lake.write("table/a.json", grown)
    var readings: [StepTrainerReading] = []
    let counts = try NDJSONTableReader(windowSize: windowSize).read(
      files, makeConsumer: { ReadingCollector() }, absorb: { readings += $0.readings }, quarantine: { _ in })
    #expect(counts.read == 50)
    #expect(readings == (1...50).map { reading($0) })
  }

  @Test func quarantinedInvalidUTF8KeepsTheRawBytes() throws {
    let lake = try ScratchLake()
    let bad: [UInt8] =
      Array(#"{"sensorReadingTime":1,"serialNumber":""#.utf8) + [0xC0, 0x80]
      + Array(#"","distanceFromObject":2}"#.utf8)
    try lake.write("table/a.json", bytes: Array((line(1) + "\n").utf8) + bad + [0x0A])
    let outcome = try readTable(lake.lake)
    let entry = try #require(outcome.quarantined.first)
    #expect(entry.reason == .invalidUTF8)
    #expect(entry.line == 2)
    #expect(entry.raw == bad)
    var buffer = NDJSONBuffer()
    entry.render(into: &buffer)
    let rendered = String(decoding: buffer.bytes, as: UTF8.self)
    #expect(rendered.contains("\"rawBase64\":\"\(Data(bad).base64EncodedString())\""))
    #expect(rendered.contains("\"line\":2"))
    #expect(rendered.contains("\"reason\":\"invalid_utf8\""))
  }

  @Test func fileRemovedAfterListingIsUnreadable() throws {
    let lake = try ScratchLake()
    try lake.write("table/a.json", line(1) + "\n")
    try lake.write("table/b.json", line(2) + "\n")
    let files = try lake.lake.tableFiles(in: "table")
    try FileManager.default.removeItem(at: lake.root.appendingPathComponent("table/b.json"))
    let error = #expect(throws: StorageError.self) {
      _ = try NDJSONTableReader().read(
        files, makeConsumer: { ReadingCollector() }, absorb: { _ in }, quarantine: { _ in })
    }
    guard case .unreadable(let path, let reason) = error else {
      Issue.record("expected .unreadable, got \(String(describing: error))")
      return
    }
    #expect(path == files[1].absolutePath)
    #expect(!reason.isEmpty)
  }

  @Test(.enabled(if: geteuid() != 0, "running as root: chmod 000 does not stop root from reading a file"))
  func fileWithoutReadPermissionIsUnreadable() throws {
    let lake = try ScratchLake()
    try lake.write("table/a.json", line(1) + "\n")
    let path = lake.root.appendingPathComponent("table/a.json").path
    #expect(chmod(path, 0) == 0)
    defer { chmod(path, 0o644) }
    let files = try lake.lake.tableFiles(in: "table")
    let error = #expect(throws: StorageError.self) {
      _ = try NDJSONTableReader().read(
        files, makeConsumer: { ReadingCollector() }, absorb: { _ in }, quarantine: { _ in })
    }
    guard case .unreadable(let unreadable, let reason) = error else {
      Issue.record("expected .unreadable, got \(String(describing: error))")
      return
    }
    #expect(unreadable == path)
    #expect(!reason.isEmpty)
  }
}

extension NDJSONTableReaderTests {
  /// `Lake` opens a lake folder and lists the NDJSON files of a table the way Spark would.
  @Suite struct LakeFolders {
    @Test func missingLakeFolderIsLakeNotFound() {
      let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-lake-\(UUID().uuidString)").path
      #expect(throws: StorageError.lakeNotFound(path: path)) { _ = try Lake(root: path) }
    }

    @Test func regularFileIsNotADirectory() throws {
      let lake = try ScratchLake()
      try lake.write("file.json", "{}")
      let path = lake.root.appendingPathComponent("file.json").path
      #expect(throws: StorageError.notAFolder(path: path)) { _ = try Lake(root: path) }
    }

    @Test func tableFilesAreRecursiveSortedAndSkipHiddenAndNonJSON() throws {
      let lake = try ScratchLake()
      for path in [
        "table/b.json", "table/a.json", "table/sub/c.json", "table/sub/deeper/a.json", "table/a2.json",
        "table/.hidden.json", "table/_SUCCESS.json", "table/_temporary/x.json", "table/.spark/y.json",
        "table/notes.txt", "table/data.json.tmp", "table/sub/_partial.json", "other/z.json",
      ] {
        try lake.write(path, "{}\n")
      }
      let files = try lake.lake.tableFiles(in: "table")
      #expect(
        files.map(\.relativePath) == [
          "table/a.json", "table/a2.json", "table/b.json", "table/sub/c.json", "table/sub/deeper/a.json",
        ])
      let root = try lake.lake.root
      #expect(files.allSatisfy { $0.absolutePath == root + "/" + $0.relativePath })
      #expect(files.allSatisfy { $0.size == 3 })
    }

    @Test func missingTableFolderHasNoFiles() throws {
      let lake = try ScratchLake()
      #expect(try lake.lake.tableFiles(in: "absent").isEmpty)
    }

    @Test func trailingSlashOnTheRootIsIgnored() throws {
      let lake = try ScratchLake()
      try lake.write("table/a.json", "{}\n")
      let opened = try Lake(root: lake.root.path + "/")
      #expect(opened.root == lake.root.path)
      #expect(try opened.tableFiles(in: "table").map(\.absolutePath) == [lake.root.path + "/table/a.json"])
    }
  }
}
