import Foundation
import Ingestion
import SeededRandom
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite struct WriteAheadLogTests {
  @Test func appendedRecordsReadBackAfterReopenAcrossRotations() async throws {
    let directory = TestDirectory()
    defer { directory.remove() }
    var expected: [WALRecord] = []
    do {
      let (log, recovery) = try WriteAheadLog.open(directory: directory.log, segmentBytes: 1024)
      #expect(recovery.records.isEmpty)
      #expect(recovery.damage.isEmpty)
      #expect(recovery.nextLSN == 1)
      #expect(try await log.append([] as [[UInt8]]) == 1)  // nothing to write, nothing synced
      var index = 0
      while index < 300 {
        let batch = (index..<min(300, index + 1 + index % 4)).map(payload)
        let first = try await log.append(batch)
        #expect(first == UInt64(index) + 1)
        for (offset, bytes) in batch.enumerated() {
          expected.append(WALRecord(lsn: first + UInt64(offset), payload: bytes))
        }
        index += batch.count
      }
      #expect(log.nextLSN == 301)
      #expect(log.segmentCount == directory.segmentNames().count)
      #expect(log.segmentCount > 10)
      #expect(log.sizeBytes == directory.totalSegmentBytes())
      #expect(log.statistics.records == 300)
      #expect(log.statistics.syncs == log.statistics.appends)  // one at a time: nothing to group
      await log.close()
    }
    // Each segment is named after its first record, which the reader checks.
    let (log, recovery) = try WriteAheadLog.open(directory: directory.log, segmentBytes: 1024)
    #expect(recovery.damage.isEmpty)
    #expect(recovery.records == expected)
    #expect(recovery.nextLSN == 301)
    #expect(try await log.append([1, 2, 3]) == 301)
    await log.close()
    let (_, again) = try WriteAheadLog.open(directory: directory.log, segmentBytes: 1024)
    #expect(again.records == expected + [WALRecord(lsn: 301, payload: [1, 2, 3])])
  }

  @Test func concurrentAppendsShareSyncs() async throws {
    let directory = TestDirectory()
    defer { directory.remove() }
    let (log, _) = try WriteAheadLog.open(directory: directory.log)
    let appended = try await withThrowingTaskGroup(of: (index: Int, lsn: UInt64).self) { group in
      for index in 0..<200 {
        group.addTask { (index, try await log.append(payload(index))) }
      }
      var results: [(index: Int, lsn: UInt64)] = []
      for try await result in group { results.append(result) }
      return results
    }
    #expect(appended.map(\.lsn).sorted() == Array(1...200))
    let statistics = log.statistics
    #expect(statistics.appends == 200)
    #expect(statistics.records == 200)
    // Each sync serves every append that queued while the previous one ran.
    #expect(statistics.syncs < 100, "\(statistics.syncs) syncs for 200 appends")
    await log.close()

    let (_, recovery) = try WriteAheadLog.open(directory: directory.log)
    let byLSN = Dictionary(uniqueKeysWithValues: recovery.records.map { ($0.lsn, $0.payload) })
    for (index, lsn) in appended { #expect(byLSN[lsn] == payload(index)) }
  }

  /// Cuts the last segment at every byte of its last two records, as a crash or power loss does.
  @Test func tornTailIsReportedTruncatedAndAppendedPast() async throws {
    let source = TestDirectory()
    defer { source.remove() }
    var expected: [WALRecord] = []
    do {
      let (log, _) = try WriteAheadLog.open(directory: source.log, segmentBytes: 1000)
      for index in 0..<20 {
        let lsn = try await log.append(payload(index))
        expected.append(WALRecord(lsn: lsn, payload: payload(index)))
      }
      await log.close()
    }
    let names = source.segmentNames()
    #expect(names.count >= 2)
    let lastName = names.last!
    let lastFirstLSN = firstLSN(of: lastName)
    let tail = expected.filter { $0.lsn >= lastFirstLSN }
    #expect(tail.count >= 2)
    // Record boundaries in the last segment: ends[k] is where tail[k] ends.
    var ends: [Int] = []
    for record in tail { ends.append((ends.last ?? 0) + 20 + record.payload.count) }
    let original = try source.contents(of: lastName)
    #expect(original.count == ends.last!)
    // From the start of the second-to-last record to the end of the file.
    let fromStart = tail.count >= 3 ? ends[tail.count - 3] : 0

    for cut in fromStart...original.count {
      let copy = TestDirectory()
      defer { copy.remove() }
      try FileManager.default.createDirectory(atPath: copy.log, withIntermediateDirectories: true)
      for name in names.dropLast() {
        try Data(source.contents(of: name)).write(to: URL(fileURLWithPath: copy.log + "/" + name))
      }
      try Data(original[0..<cut]).write(to: URL(fileURLWithPath: copy.log + "/" + lastName))

      let keptInTail = ends.filter { $0 <= cut }.count
      let boundary = keptInTail == 0 ? 0 : ends[keptInTail - 1]
      let kept = expected.filter { $0.lsn < lastFirstLSN } + tail.prefix(keptInTail)
      let (log, recovery) = try WriteAheadLog.open(directory: copy.log, segmentBytes: 1000)
      #expect(recovery.records == kept, "cut at \(cut)")
      #expect(recovery.nextLSN == UInt64(kept.count) + 1, "cut at \(cut)")
      if cut == boundary {
        #expect(recovery.damage.isEmpty, "cut at \(cut)")
      } else {
        #expect(
          recovery.damage == [
            WALDamage(
              segment: copy.log + "/" + lastName, offset: boundary,
              reason: cut - boundary < 20 ? .truncatedHeader : .truncatedPayload, bytesSkipped: cut - boundary,
              intactRecordsSkipped: 0, truncated: true)
          ], "cut at \(cut)")
      }
      #expect(try copy.contents(of: lastName).count == boundary, "cut at \(cut)")

      let added = [payload(1000), payload(1001)]
      #expect(try await log.append(added) == UInt64(kept.count) + 1)
      await log.close()
      let (_, again) = try WriteAheadLog.open(directory: copy.log, segmentBytes: 1000)
      #expect(again.damage.isEmpty, "cut at \(cut)")
      let appended = added.enumerated().map { WALRecord(lsn: UInt64(kept.count + 1 + $0.offset), payload: $0.element) }
      #expect(again.records == kept + appended, "cut at \(cut)")
    }
  }

  /// A power loss can leave a file longer than what reached the disk, the rest zeros or garbage.
  @Test(arguments: [false, true])
  func tailOfZerosOrGarbageIsCutOff(garbage: Bool) async throws {
    let directory = TestDirectory()
    defer { directory.remove() }
    let expected = try await directory.fill(records: 10)
    let name = directory.segmentNames().last!
    let intact = try directory.contents(of: name).count
    var generator = SplitMix64(seed: 7)
    let junk = (0..<4096).map { _ in garbage ? UInt8(truncatingIfNeeded: generator.next()) : 0 }
    try directory.append(junk, to: name)

    let (log, recovery) = try WriteAheadLog.open(directory: directory.log)
    #expect(recovery.records == expected)
    #expect(recovery.damage.count == 1)
    #expect(recovery.damage.first?.offset == intact)
    #expect(recovery.damage.first?.bytesSkipped == 4096)
    #expect(recovery.damage.first?.truncated == true)
    #expect(recovery.damage.first?.reason == .badMagic)
    #expect(try directory.contents(of: name).count == intact)
    #expect(try await log.append([9]) == 11)
    await log.close()
  }

  @Test(arguments: WALCorruption.all)
  func damageInOlderSegmentIsReportedAndLaterSegmentsRead(corruption: WALCorruption) async throws {
    let directory = TestDirectory()
    defer { directory.remove() }
    let expected = try await directory.fill(records: 40, segmentBytes: 1000)
    let names = directory.segmentNames()
    #expect(names.count >= 3)
    let second = firstLSN(of: names[1])
    // Damage record LSN 4 of the first segment.
    let offset = expected.prefix(3).reduce(0) { $0 + 20 + $1.payload.count }
    var bytes = try directory.contents(of: names[0])
    let size = bytes.count
    bytes[offset + corruption.byte] ^= corruption.mask
    try directory.write(bytes, to: names[0])

    let (log, recovery) = try WriteAheadLog.open(directory: directory.log, segmentBytes: 1000)
    let reason = corruption.reason(expected[3].payload.count)
    let damage = WALDamage(
      segment: directory.log + "/" + names[0], offset: offset, reason: reason, bytesSkipped: size - offset,
      intactRecordsSkipped: Int(second) - 5, truncated: false)
    #expect(recovery.damage == [damage])
    #expect(recovery.records == expected.filter { $0.lsn < 4 || $0.lsn >= second })
    #expect(recovery.nextLSN == 41)
    #expect(try directory.contents(of: names[0]).count == size)  // left as found
    #expect(try await log.append([7]) == 41)
    await log.close()
    let (_, again) = try WriteAheadLog.open(directory: directory.log, segmentBytes: 1000)
    #expect(again.damage == [damage])
    #expect(again.records.last == WALRecord(lsn: 41, payload: [7]))
  }

  /// Damage followed by intact records is corruption of synced data, not a torn write: the
  /// segment stays as it is and new records go to a fresh one, after every LSN found.
  @Test func damageBeforeIntactRecordsInLastSegmentIsKept() async throws {
    let directory = TestDirectory()
    defer { directory.remove() }
    let expected = try await directory.fill(records: 10)
    let name = directory.segmentNames()[0]
    let offset = expected.prefix(3).reduce(0) { $0 + 20 + $1.payload.count }
    var bytes = try directory.contents(of: name)
    bytes[offset + 25] ^= 0x40
    try directory.write(bytes, to: name)

    let (log, recovery) = try WriteAheadLog.open(directory: directory.log)
    #expect(
      recovery.damage == [
        WALDamage(
          segment: directory.log + "/" + name, offset: offset, reason: .checksumMismatch,
          bytesSkipped: bytes.count - offset, intactRecordsSkipped: 6, truncated: false)
      ])
    #expect(recovery.records == Array(expected.prefix(3)))
    #expect(recovery.nextLSN == 11)
    #expect(try await log.append([1]) == 11)
    await log.close()
    #expect(directory.segmentNames() == [name, "wal-00000000000000000011.log"])
    #expect(try directory.contents(of: name) == bytes)
    let (_, again) = try WriteAheadLog.open(directory: directory.log)
    #expect(again.damage == recovery.damage)  // no "missing records" on top
    #expect(again.records == Array(expected.prefix(3)) + [WALRecord(lsn: 11, payload: [1])])
  }

  @Test func missingSegmentIsReported() async throws {
    let directory = TestDirectory()
    defer { directory.remove() }
    let expected = try await directory.fill(records: 40, segmentBytes: 1000)
    let names = directory.segmentNames()
    try FileManager.default.removeItem(atPath: directory.log + "/" + names[1])
    let (from, through) = (firstLSN(of: names[1]), firstLSN(of: names[2]) - 1)

    let (_, recovery) = try WriteAheadLog.open(directory: directory.log, segmentBytes: 1000)
    #expect(
      recovery.damage == [
        WALDamage(
          segment: directory.log + "/" + names[2], offset: 0, reason: .missingRecords(from: from, through: through),
          bytesSkipped: 0, intactRecordsSkipped: 0, truncated: false)
      ])
    #expect(recovery.records == expected.filter { $0.lsn < from || $0.lsn > through })
  }

  @Test func releaseDeletesOnlyFullyReleasedSegments() async throws {
    let directory = TestDirectory()
    defer { directory.remove() }
    let expected = try await directory.fill(records: 60, segmentBytes: 1000)
    let names = directory.segmentNames()
    let firsts = names.map(firstLSN(of:))
    #expect(names.count >= 4)

    let (log, _) = try WriteAheadLog.open(directory: directory.log, segmentBytes: 1000)
    // Through the first record of the third segment: the first two are wholly released.
    #expect(try await log.releaseSegments(through: firsts[2]) == 2)
    #expect(directory.segmentNames() == Array(names.dropFirst(2)))
    #expect(log.sizeBytes == directory.totalSegmentBytes())
    #expect(log.segmentCount == names.count - 2)
    // One short of the third segment's last record: nothing more.
    #expect(try await log.releaseSegments(through: firsts[3] - 2) == 0)
    #expect(try await log.releaseSegments(through: firsts[3] - 1) == 1)
    // Everything: the segment being appended to stays, carrying the next LSN.
    #expect(try await log.releaseSegments(through: 60) == names.count - 4)
    #expect(directory.segmentNames() == [names.last!])
    #expect(log.statistics.segmentsReleased == names.count - 1)
    await log.close()

    let (reopened, recovery) = try WriteAheadLog.open(directory: directory.log, segmentBytes: 1000)
    #expect(recovery.damage.isEmpty)
    #expect(recovery.nextLSN == 61)
    #expect(recovery.records == expected.filter { $0.lsn >= firsts.last! })
    #expect(try await reopened.append([1]) == 61)
    await reopened.close()
  }

  /// What a kill -9 leaves: acknowledged records are in the files though close never ran.
  @Test func acknowledgedRecordsArePresentWithoutClose() async throws {
    let directory = TestDirectory()
    defer { directory.remove() }
    let (log, _) = try WriteAheadLog.open(directory: directory.log, segmentBytes: 4096)
    var expected: [WALRecord] = []
    for index in stride(from: 0, to: 100, by: 5) {
      let batch = (index..<index + 5).map(payload)
      let first = try await log.append(batch)
      expected += batch.enumerated().map { WALRecord(lsn: first + UInt64($0.offset), payload: $0.element) }
    }
    let (_, recovery) = try WriteAheadLog.open(directory: directory.log, segmentBytes: 4096)
    #expect(recovery.damage.isEmpty)
    #expect(recovery.records == expected)
    withExtendedLifetime(log) {}
  }

  @Test func closeFinishesQueuedAppendsAndRefusesLaterOnes() async throws {
    let directory = TestDirectory()
    defer { directory.remove() }
    let (log, _) = try WriteAheadLog.open(directory: directory.log)
    let outcomes = await withTaskGroup(of: Result<UInt64, WALError>.self) { group in
      for index in 0..<50 {
        group.addTask {
          do throws(WALError) { return .success(try await log.append(payload(index))) } catch { return .failure(error) }
        }
      }
      await log.close()
      var outcomes: [Result<UInt64, WALError>] = []
      for await outcome in group { outcomes.append(outcome) }
      return outcomes
    }
    let lsns = outcomes.compactMap { try? $0.get() }.sorted()
    #expect(lsns == (0..<lsns.count).map { UInt64($0) + 1 })
    for case .failure(let error) in outcomes { #expect(error == .closed(directory: directory.log)) }
    await #expect(throws: WALError.closed(directory: directory.log)) { try await log.append([1]) }
    await #expect(throws: WALError.closed(directory: directory.log)) { try await log.releaseSegments(through: 1) }
    await log.close()  // again: nothing to do

    let (_, recovery) = try WriteAheadLog.open(directory: directory.log)
    #expect(recovery.records.map(\.lsn) == lsns)
  }

  @Test func manySmallRecordsInBatches() async throws {
    let directory = TestDirectory()
    defer { directory.remove() }
    let (log, _) = try WriteAheadLog.open(directory: directory.log, segmentBytes: 1 << 20)
    try await withThrowingTaskGroup(of: Void.self) { group in
      for producer in 0..<4 {
        group.addTask {
          for batch in 0..<25 {
            let base = (producer * 25 + batch) * 1000
            let first = try await log.append((base..<base + 1000).map { Array("record \($0)".utf8) })
            #expect(first >= 1)
          }
        }
      }
      try await group.waitForAll()
    }
    #expect(log.statistics.records == 100_000)
    #expect(log.nextLSN == 100_001)
    await log.close()
    let (_, recovery) = try WriteAheadLog.open(directory: directory.log, segmentBytes: 1 << 20)
    #expect(recovery.damage.isEmpty)
    #expect(recovery.records.count == 100_000)
    #expect(recovery.records.map(\.lsn) == Array(1...100_000))
  }

  @Test func errorsNameThePath() throws {
    let directory = TestDirectory()
    defer { directory.remove() }
    try FileManager.default.createDirectory(atPath: directory.root, withIntermediateDirectories: true)
    let file = directory.root + "/not-a-directory"
    #expect(FileManager.default.createFile(atPath: file, contents: Data([1])))
    do {
      _ = try WriteAheadLog.open(directory: file + "/wal")
      Issue.record("opening a log under a regular file succeeded")
    } catch {
      #expect("\(error)".contains(file), "\(error)")
    }
    #expect("\(WALError.diskFull(path: "/data/wal/x.log"))".contains("/data/wal/x.log"))
    #expect("\(WALError.closed(directory: "/data/wal"))".contains("/data/wal"))
  }
}

/// A byte to flip in a record and the damage it must be reported as.
struct WALCorruption: Sendable, CustomStringConvertible {
  var byte: Int
  var mask: UInt8
  var name: String

  static let all = [
    WALCorruption(byte: 0, mask: 0x01, name: "magic"),
    WALCorruption(byte: 7, mask: 0x01, name: "length, too long"),
    WALCorruption(byte: 7, mask: 0x80, name: "length, implausible"),
    WALCorruption(byte: 9, mask: 0x01, name: "LSN"),
    WALCorruption(byte: 16, mask: 0x10, name: "checksum"),
    WALCorruption(byte: 25, mask: 0x04, name: "payload"),
  ]

  var description: String { name }

  func reason(_ payloadLength: Int) -> WALDamage.Reason {
    switch byte {
    case 0: .badMagic
    case 7 where mask == 0x80: .implausibleLength(UInt32(payloadLength) | 0x8000_0000)
    case 7: .truncatedPayload
    default: .checksumMismatch
    }
  }
}

/// Deterministic payloads of 0 to 119 bytes.
extension WriteAheadLogTests {
  @Test func aTwoPartPayloadIsStoredAsThePartsJoined() async throws {
    let directory = TestDirectory()
    defer { directory.remove() }
    let parts = [
      WALPayload(head: [1, 2], body: payload(7)), WALPayload(body: payload(9)), WALPayload(head: [3], body: []),
    ]
    do {
      let (log, _) = try WriteAheadLog.open(directory: directory.log)
      #expect(try await log.append(parts) == 1)
      await log.close()
    }
    let (_, recovery) = try WriteAheadLog.open(directory: directory.log)
    #expect(recovery.damage.isEmpty)
    #expect(recovery.records.map(\.payload) == parts.map { $0.head + $0.body })
  }
}

private func payload(_ index: Int) -> [UInt8] {
  (0..<(index * 37) % 120).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0) }
}

private func firstLSN(of segmentName: String) -> UInt64 {
  UInt64(segmentName.dropFirst("wal-".count).dropLast(".log".count))!
}

/// A log directory under a fresh temporary root; the log creates it (and the root) itself.
private struct TestDirectory {
  let root = FileManager.default.temporaryDirectory.appendingPathComponent("wal-tests-\(UUID().uuidString)").path
  var log: String { root + "/wal" }

  func remove() { try? FileManager.default.removeItem(atPath: root) }

  func segmentNames() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: log)) ?? []).filter { $0.hasPrefix("wal-") }.sorted()
  }

  func totalSegmentBytes() -> Int {
    segmentNames().reduce(0) { $0 + ((try? contents(of: $1).count) ?? 0) }
  }

  func contents(of name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: log + "/" + name)))
  }

  func write(_ bytes: [UInt8], to name: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: log + "/" + name))
  }

  func append(_ bytes: [UInt8], to name: String) throws {
    try write(contents(of: name) + bytes, to: name)
  }

  /// Appends `records` payloads one at a time and closes the log; returns what was appended.
  func fill(records: Int, segmentBytes: Int = WriteAheadLog.defaultSegmentBytes) async throws -> [WALRecord] {
    let (log, _) = try WriteAheadLog.open(directory: log, segmentBytes: segmentBytes)
    var appended: [WALRecord] = []
    for index in 0..<records {
      appended.append(WALRecord(lsn: try await log.append(payload(index)), payload: payload(index)))
    }
    await log.close()
    return appended
  }
}
