import Foundation
import IngestAPI
import LakeStorage
import Lakehouse
import StediTestSupport
import Synchronization
import Testing

@testable import Ingestion

/// Filesystem storage whose writes can be made to fail, and which counts them.
final class FlakyStorage: LakeStorage {
  let inner: FileSystemStorage
  let failing = Atomic<Bool>(false)
  let puts = Atomic<Int>(0)

  init(_ inner: FileSystemStorage) { self.inner = inner }

  var location: String { inner.location }

  func put(_ key: String, bytes: [UInt8]) async throws(StorageError) {
    puts.add(1, ordering: .relaxed)
    if failing.load(ordering: .relaxed) {
      throw StorageError.unreachable(location: location, reason: "switched off by the test")
    }
    try await inner.put(key, bytes: bytes)
  }

  func create(_ key: String, bytes: [UInt8]) async throws(StorageError) -> Bool {
    if failing.load(ordering: .relaxed) {
      throw StorageError.unreachable(location: location, reason: "switched off by the test")
    }
    return try await inner.create(key, bytes: bytes)
  }

  func get(_ key: String) async throws(StorageError) -> [UInt8] { try await inner.get(key) }
  func list(prefix: String) async throws(StorageError) -> [StoredObject] { try await inner.list(prefix: prefix) }
  func delete(_ key: String) async throws(StorageError) { try await inner.delete(key) }
}

/// Waits until `condition` holds, polling; fails the test after `seconds`.
func eventually(
  _ what: String, timeout seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation,
  _ condition: () async -> Bool
) async {
  let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
  while ContinuousClock.now < deadline {
    if await condition() { return }
    try? await Task.sleep(for: .milliseconds(20))
  }
  Issue.record("timed out waiting for \(what)", sourceLocation: sourceLocation)
}

/// The first reading time of these tests' batches (2023-11-14); the service refuses times before 2000.
private let base: Int64 = 1_700_000_000_000

@Suite struct IngestorTests {
  @Test func aBatchLandsWhenItReachesItsRecordLimit() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let (ingestor, _) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder, limits: BatchLimits(maxRecords: 250, maxAge: .seconds(600)))
    for part in 0..<5 {
      _ = try await ingestor.accept(try stepTrainerBatch(serial: "S-1", count: 100, start: base + Int64(part * 100)))
    }
    // 500 records: one batch of 300 (a request is never split), 200 still buffered.
    await eventually("a landing file") { lake.landingFiles(.stepTrainer).count == 1 }
    #expect(lake.landingLines(.stepTrainer).count == 300)
    #expect(await ingestor.bufferedRecords[.stepTrainer] == 200)
    await ingestor.shutdown()
    let lines = lake.landingLines(.stepTrainer)
    #expect(lines.count == 500)
    #expect(Set(lines).count == 500)
  }

  @Test func aBatchLandsWhenItReachesItsByteLimit() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let (ingestor, _) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder,
      limits: BatchLimits(maxRecords: 1_000_000, maxBytes: 4_000, maxAge: .seconds(600)))
    _ = try await ingestor.accept(try stepTrainerBatch(serial: "S-1", count: 10))
    #expect(lake.landingFiles(.stepTrainer).isEmpty)
    _ = try await ingestor.accept(try stepTrainerBatch(serial: "S-1", count: 60, start: base + 100))
    await eventually("the byte limit to land a file") { lake.landingFiles(.stepTrainer).count == 1 }
    await ingestor.shutdown()
  }

  @Test func aQuietStreamStillLandsOnAge() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let (ingestor, _) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder, limits: BatchLimits(maxAge: .milliseconds(200)))
    let sealer = Task { await ingestor.sealAgedUntilCancelled() }
    defer { sealer.cancel() }
    _ = try await ingestor.accept(try stepTrainerBatch(serial: "S-1", count: 3))
    await eventually("the age limit to land a file") { lake.landingLines(.stepTrainer).count == 3 }
    await ingestor.shutdown()
  }

  @Test func fileNamesFollowTheLandingConventionAndSourcesStaySeparate() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let (ingestor, _) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder, dateFolders: true)
    _ = try await ingestor.accept(try stepTrainerBatch(serial: "S-1", count: 2))
    let reading = Array(#"[{"user":"a@example.com","timestamp":1700000000001,"x":0,"y":0,"z":9.8}]"#.utf8)
    _ = try await ingestor.accept(
      try reading.withUnsafeBytes {
        try IngestBody.parse($0, source: .accelerometer, token: IngestFakes.token(.user, "a@example.com"))
      })
    await ingestor.shutdown()
    let pattern =
      /(step_trainer|accelerometer)\/landing\/date=\d{4}-\d{2}-\d{2}\/(step_trainer|accelerometer)-\d{13}-[0-9a-f]{16}-\d+\.json/
    let files = lake.landingFiles(.stepTrainer) + lake.landingFiles(.accelerometer)
    #expect(files.count == 2)
    for file in files { #expect(file.wholeMatch(of: pattern) != nil, "\(file)") }
    #expect(
      lake.landingLines(.accelerometer) == [
        #"{"user":"a@example.com","timestamp":1700000000001,"x":0.0,"y":0.0,"z":9.8}"#
      ])
  }

  @Test func fullBuffersRefuseWith503InsteadOfGrowing() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let storage = FlakyStorage(lake.storage)
    storage.failing.store(true, ordering: .relaxed)
    let (ingestor, _) = try await Ingestor.open(
      storage: storage, logDirectory: lake.logFolder,
      limits: BatchLimits(maxRecords: 10, maxAge: .seconds(600), maxBufferedBytes: 20_000))
    var accepted = 0
    var refusal: IngestRejection?
    for part in 0..<100 {
      do {
        accepted += try await ingestor.accept(
          try stepTrainerBatch(serial: "S-1", count: 10, start: base + Int64(part * 10)))
      } catch {
        refusal = error as? IngestRejection
        break
      }
    }
    #expect(refusal?.status == 503 && refusal?.reason == "buffers_full")
    #expect(await ingestor.bufferedBytes <= 20_000)
    // The store comes back: everything accepted lands, once, and requests are taken again.
    storage.failing.store(false, ordering: .relaxed)
    await eventually("the retried batches to land", timeout: 30) { lake.landingLines(.stepTrainer).count == accepted }
    _ = try await ingestor.accept(try stepTrainerBatch(serial: "S-1", count: 10, start: base + 10_000))
    await ingestor.shutdown()
    #expect(lake.landingLines(.stepTrainer).count == accepted + 10)
  }

  @Test func afterACrashSealedBatchesLandOnceUnderTheirOwnNames() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let storage = FlakyStorage(lake.storage)
    let (first, _) = try await Ingestor.open(
      storage: storage, logDirectory: lake.logFolder, limits: BatchLimits(maxRecords: 100, maxAge: .seconds(600)))
    // One batch lands; then the store fails, so the next batch is sealed but not landed; then
    // more records are acknowledged and buffered; then the process "crashes".
    _ = try await first.accept(try stepTrainerBatch(serial: "S-1", count: 100, start: base))
    await eventually("the first batch") { lake.landingFiles(.stepTrainer).count == 1 }
    let landedName = lake.landingFiles(.stepTrainer)[0]
    storage.failing.store(true, ordering: .relaxed)
    _ = try await first.accept(try stepTrainerBatch(serial: "S-1", count: 100, start: base + 100))
    _ = try await first.accept(try stepTrainerBatch(serial: "S-1", count: 30, start: base + 200))
    await eventually("a failed landing attempt") { storage.puts.load(ordering: .relaxed) >= 2 }
    await first.abandon()

    let (second, recovery) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder, limits: BatchLimits(maxRecords: 100, maxAge: .seconds(600)))
    #expect(recovery.sealedBatchesRelanded == 1)
    #expect(recovery.unsealedRecordsReplayed == 30)
    await second.shutdown()
    let lines = lake.landingLines(.stepTrainer)
    #expect(lines.count == 230)
    #expect(Set(lines).count == 230)
    #expect(lake.landingFiles(.stepTrainer).contains(landedName))
    #expect(lake.landingFiles(.stepTrainer).count == 3)

    // A second restart finds nothing left to do.
    let (third, again) = try await Ingestor.open(storage: lake.storage, logDirectory: lake.logFolder)
    #expect(again.sealedBatchesRelanded == 0 && again.unsealedRecordsReplayed == 0)
    await third.shutdown()
    #expect(lake.landingLines(.stepTrainer).count == 230)
  }

  @Test func shutdownWithStorageAwayGivesUpInTimeAndTheNextStartLandsEverything() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let storage = FlakyStorage(lake.storage)
    storage.failing.store(true, ordering: .relaxed)
    let (first, _) = try await Ingestor.open(storage: storage, logDirectory: lake.logFolder)
    _ = try await first.accept(try stepTrainerBatch(serial: "S-1", count: 40))
    let started = ContinuousClock.now
    await first.shutdown(grace: .milliseconds(500))
    // Generous: it measured 5.6 s with both cores busy; what it guards against is a shutdown
    // that waits for the storage for ever.
    #expect(ContinuousClock.now - started < .seconds(30))
    #expect(lake.landingLines(.stepTrainer).isEmpty)

    let (second, recovery) = try await Ingestor.open(storage: lake.storage, logDirectory: lake.logFolder)
    #expect(recovery.sealedBatchesRelanded == 1)
    await second.shutdown()
    #expect(lake.landingLines(.stepTrainer).count == 40)
  }

  @Test func theLogShrinksOnceItsRecordsAreInLanding() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let (ingestor, _) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder, limits: BatchLimits(maxRecords: 500, maxAge: .seconds(600)),
      segmentBytes: 64 << 10)
    for part in 0..<40 {
      _ = try await ingestor.accept(try stepTrainerBatch(serial: "S-1", count: 100, start: base + Int64(part * 100)))
    }
    await eventually("every batch to land") { lake.landingLines(.stepTrainer).count == 4000 }
    let segments = try FileManager.default.contentsOfDirectory(atPath: lake.logFolder).filter { $0.hasSuffix(".log") }
    // 4000 records are about 300 KB of log: most segments must be gone.
    #expect(segments.count <= 2, "\(segments)")
    await ingestor.shutdown()
  }
}
