import Foundation
import Hummingbird
import HummingbirdTesting
import IngestAPI
import LakeStorage
import Lakehouse
import StediTestSupport
import Synchronization
import Testing

@testable import Ingestion

/// The erasure key of these tests' lakes.
private let erasureKeyBytes = Array(repeating: UInt8(7), count: 32)
private let erasureKey = ErasureKey(bytes: erasureKeyBytes)

/// The instant up to which serial `S-GONE` (and `S-1` in the Ingestor tests) was the erased customer's.
private let cutoff: Int64 = 1_700_000_000_004

/// An erasure list naming `emails`, with `serials` (serial number, until) given to the first of them.
private func erasureList(emails: [String], serials: [(String, Int64)] = []) -> ErasureList {
  ErasureList(
    entries: emails.enumerated().map { index, email in
      ErasureList.Entry(
        subject: erasureKey.hash(email: email), erasedAt: 1_700_000_100_000,
        serials: index == 0
          ? serials.map { ErasureList.ErasedSerial(hash: erasureKey.hash(serialNumber: $0.0), until: $0.1) } : [])
    })
}

/// Writes the erasure key and `list` into `storage`, as `stedi lake erase` does.
private func writeErasures(_ list: ErasureList, to storage: any LakeStorage, key: Bool = true) async throws {
  if key {
    try await storage.put(ErasureKey.storageKey, bytes: Array((SecretKeyFile.hex(erasureKeyBytes) + "\n").utf8))
  }
  try await list.save(storage: storage)
}

/// Whether `erasures` refuses records of `email` right now.
private func erases(_ erasures: ErasureGuard, _ email: String) -> Bool {
  var matcher = erasures.snapshot.matcher
  return matcher.isErased(email: email)
}

private func snapshot(_ list: ErasureList, version: UInt64 = 1) -> ErasureGuard.Snapshot {
  ErasureGuard.Snapshot(version: version, matcher: ErasureMatcher(list: list, key: erasureKey))
}

/// NDJSON accelerometer readings of `user`, with distinct timestamps from `start`.
private func accelerometerBody(user: String, count: Int, start: Int64 = 1_700_000_000_000) -> String {
  (0..<count).map { #"{"user":"\#(user)","timestamp":\#(start + Int64($0)),"x":0.5,"y":0.0,"z":9.8}"# }
    .joined(separator: "\n") + "\n"
}

private func customer(_ email: String, serial: String = "S-9") -> String {
  #"{"customerName":"C","email":"\#(email)","phone":"1","birthDay":"1990-01-01","serialNumber":"\#(serial)","registrationDate":1700000000001,"lastUpdateDate":1700000000002,"shareWithResearchAsOfDate":1700000000003,"shareWithPublicAsOfDate":null,"shareWithFriendsAsOfDate":null}"#
}

private func parse(
  _ text: String, _ source: LandingSource, _ token: AccessToken, _ erasures: ErasureGuard.Snapshot
) throws(IngestRejection) -> IngestBatch {
  let bytes = Array(text.utf8)
  return try bytes.withUnsafeBytes { raw in
    Result { () throws(IngestRejection) in
      try IngestBody.parse(raw, source: source, token: token, erasures: erasures)
    }
  }.get()
}

private func ndjsonLines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

private func lines(_ batch: IngestBatch) -> [String] {
  String(decoding: batch.ndjson, as: UTF8.self).split(separator: "\n").map(String.init)
}

private func batch(_ text: String, _ source: LandingSource, _ token: AccessToken) throws -> IngestBatch {
  try parse(text, source, token, .none)
}

/// Storage that writes every object and then reports the write as failed (a timeout after the
/// store took it): the batch is in landing, but its `committed` entry never reaches the log.
private final class WriteThenFailStorage: LakeStorage {
  let inner: FileSystemStorage
  init(_ inner: FileSystemStorage) { self.inner = inner }
  var location: String { inner.location }
  func put(_ key: String, bytes: [UInt8]) async throws(StorageError) {
    try await inner.put(key, bytes: bytes)
    if key.contains("/landing/") { throw .unreachable(location: location, reason: "timed out after writing") }
  }
  func create(_ key: String, bytes: [UInt8]) async throws(StorageError) -> Bool {
    try await inner.create(key, bytes: bytes)
  }
  func get(_ key: String) async throws(StorageError) -> [UInt8] { try await inner.get(key) }
  func list(prefix: String) async throws(StorageError) -> [StoredObject] { try await inner.list(prefix: prefix) }
  func delete(_ key: String) async throws(StorageError) { try await inner.delete(key) }
}

@Suite struct ErasureRefusalTests {
  // MARK: parsing

  @Test func parseLeavesOutErasedCustomersAndTheirAccelerometerReadings() throws {
    let erasures = snapshot(erasureList(emails: ["gone@example.com"]))
    let admin = IngestFakes.token(.admin, "admin")

    // Emails are compared normalized: a different case or stray spaces do not let one through.
    let customers = try parse(
      [customer("kept@example.com"), customer(" Gone@Example.COM"), customer("other@example.com")]
        .joined(separator: "\n"), .customer, admin, erasures)
    #expect(customers.count == 2 && customers.refused == 1)
    #expect(!String(decoding: customers.ndjson, as: UTF8.self).lowercased().contains("gone@"))
    #expect(
      lines(customers)
        == lines(try batch(customer("kept@example.com") + "\n" + customer("other@example.com"), .customer, admin)))

    let readings = try parse(
      accelerometerBody(user: "gone@example.com", count: 3) + accelerometerBody(user: "kept@example.com", count: 2),
      .accelerometer, admin, erasures)
    #expect(readings.count == 2 && readings.refused == 3)
    #expect(
      lines(readings) == lines(try batch(accelerometerBody(user: "kept@example.com", count: 2), .accelerometer, admin)))

    // A phone of someone else is not affected; the erased customer's own phone is refused.
    let other = try parse(
      accelerometerBody(user: "kept@example.com", count: 4), .accelerometer,
      IngestFakes.token(.user, "kept@example.com"), erasures)
    #expect(other.count == 4 && other.refused == 0)
    let refusal = #expect(throws: IngestRejection.self) {
      try parse(
        accelerometerBody(user: "gone@example.com", count: 4), .accelerometer,
        IngestFakes.token(.user, "gone@example.com"),
        erasures)
    }
    #expect(refusal?.status == 403 && refusal?.reason == "erased")
    // Invalid records still get 400 whoever they belong to: validation comes first.
    let invalid = #expect(throws: IngestRejection.self) {
      try parse(
        #"{"user":"gone@example.com","timestamp":"now"}"#, .accelerometer, IngestFakes.token(.user, "gone@example.com"),
        erasures)
    }
    #expect(invalid?.status == 400)
  }

  @Test func stepTrainerReadingsAreRefusedOnlyUpToTheSerialsCutoff() throws {
    let erasures = snapshot(erasureList(emails: ["gone@example.com"], serials: [("S-GONE", cutoff)]))
    // Times cutoff-4 ... cutoff+3: the first five were the erased customer's; the last three are
    // the refurbished device's next owner's and are accepted.
    let body = IngestFakes.stepTrainerBody(serial: "S-GONE", count: 8, start: cutoff - 4)
    let device = try parse(body, .stepTrainer, IngestFakes.token(.device, "S-GONE"), erasures)
    #expect(device.count == 3 && device.refused == 5)
    #expect(
      lines(device) == Array(lines(try batch(body, .stepTrainer, IngestFakes.token(.device, "S-GONE"))).suffix(3)))

    let admin = try parse(
      body + IngestFakes.stepTrainerBody(serial: "S-KEPT", count: 4, start: cutoff - 10), .stepTrainer,
      IngestFakes.token(.admin, "admin"),
      erasures)
    #expect(admin.count == 7 && admin.refused == 5)
    #expect(lines(admin).filter { $0.contains("S-GONE") }.count == 3)

    let allBefore = #expect(throws: IngestRejection.self) {
      try parse(
        IngestFakes.stepTrainerBody(serial: "S-GONE", count: 5, start: cutoff - 4), .stepTrainer,
        IngestFakes.token(.device, "S-GONE"),
        erasures)
    }
    #expect(allBefore?.status == 403 && allBefore?.reason == "erased")
    // The answer names no one.
    #expect(allBefore.map { !$0.json.contains("S-GONE") && !$0.json.contains("@") } == true)
    #expect(allBefore?.message.contains("erased") == true)
  }

  @Test func anEmptyListChangesNothing() throws {
    let body = IngestFakes.stepTrainerBody(serial: "S-1", count: 20)
    let plain = try batch(body, .stepTrainer, IngestFakes.token(.device, "S-1"))
    let checked = try parse(body, .stepTrainer, IngestFakes.token(.device, "S-1"), snapshot(ErasureList(), version: 0))
    #expect(plain.ndjson == checked.ndjson && checked.count == 20 && checked.refused == 0)
    #expect(throws: IngestRejection.self) { try parse("\n", .stepTrainer, IngestFakes.token(.device, "S-1"), .none) }
  }

  // MARK: the guard

  @Test func theGuardPicksUpAListWrittenAfterItStartedAndKeepsItWhenTheListIsDamaged() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let erasures = ErasureGuard()
    #expect(try await erasures.refresh(storage: lake.storage) == false)
    #expect(erasures.version == 0 && erasures.snapshot.matcher.isEmpty)

    try await writeErasures(erasureList(emails: ["gone@example.com"]), to: lake.storage)
    #expect(try await erasures.refresh(storage: lake.storage) == true)
    #expect(erasures.version == 1)
    #expect(erases(erasures, "gone@example.com") && !erases(erasures, "kept@example.com"))
    #expect(try await erasures.refresh(storage: lake.storage) == false)
    #expect(erasures.version == 1)

    // A damaged list (a half-written file, someone's edit) is an error, never an empty list.
    try await lake.storage.put(ErasureList.storageKey, bytes: Array(#"{"entries":[{"subject":"#.utf8))
    await #expect(throws: StorageError.self) { try await erasures.refresh(storage: lake.storage) }
    #expect(erasures.version == 1)
    #expect(erases(erasures, "gone@example.com"))

    // A list naming customers without the key to match them is an error too.
    try await lake.storage.delete(ErasureKey.storageKey)
    try await writeErasures(
      erasureList(emails: ["gone@example.com", "also@example.com"]), to: lake.storage, key: false)
    await #expect(throws: StorageError.self) { try await erasures.refresh(storage: lake.storage) }
    #expect(erasures.version == 1)

    // Put right, the new list takes over.
    try await writeErasures(erasureList(emails: ["gone@example.com", "also@example.com"]), to: lake.storage)
    #expect(try await erasures.refresh(storage: lake.storage) == true)
    #expect(erasures.version == 2)
    #expect(erases(erasures, "also@example.com"))
  }

  @Test func theRefreshLoopNoticesAListWrittenByAnotherProcess() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let erasures = ErasureGuard()
    let loop = Task {
      await erasures.refreshUntilCancelled(
        storage: lake.storage, every: .milliseconds(20), logger: .init(label: "test"))
    }
    defer { loop.cancel() }
    try await Task.sleep(for: .milliseconds(60))
    #expect(erasures.version == 0)
    try await writeErasures(erasureList(emails: ["gone@example.com"]), to: lake.storage)
    await eventually("the loop to load the list") { erasures.version == 1 }
    try await lake.storage.put(ErasureList.storageKey, bytes: Array("not json".utf8))
    try await Task.sleep(for: .milliseconds(100))
    #expect(erasures.version == 1 && erases(erasures, "gone@example.com"))
  }

  // MARK: the service

  /// Runs `body` against the service over a lake whose erasure list is `list`, shuts down, and
  /// returns what landed, per source.
  private func withService(
    erasing list: ErasureList, _ body: @Sendable (any TestClientProtocol, IngestMetrics) async throws -> Void
  ) async throws -> [LandingSource: [String]] {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    try await writeErasures(list, to: lake.storage)
    let erasures = ErasureGuard()
    try await erasures.refresh(storage: lake.storage)
    let metrics = IngestMetrics()
    let (ingestor, _) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder, limits: BatchLimits(maxAge: .seconds(600)),
      metrics: metrics, erasures: erasures)
    let app = Application(router: IngestService(ingestor: ingestor, key: IngestFakes.key, metrics: metrics).router())
    try await app.test(.router) { client in try await body(client, metrics) }
    await ingestor.shutdown()
    return Dictionary(uniqueKeysWithValues: LandingSource.allCases.map { ($0, lake.landingLines($0)) })
  }

  private func headers(_ token: AccessToken) -> HTTPFields {
    [.contentType: "application/json", .authorization: "Bearer \(token.signed(with: IngestFakes.key))"]
  }

  @Test func theServiceAnswers202WithTheRefusedCountOr403AndCountsThem() async throws {
    let landed = try await withService(
      erasing: erasureList(emails: ["gone@example.com"], serials: [("S-GONE", cutoff)])
    ) { client, metrics in
      let mixed = try await client.execute(
        uri: "/v1/accelerometer/readings", method: .post, headers: headers(IngestFakes.token(.admin, "admin")),
        body: ByteBuffer(
          string: accelerometerBody(user: "gone@example.com", count: 2)
            + accelerometerBody(user: "kept@example.com", count: 3)))
      #expect(mixed.status == .accepted)
      #expect(String(buffer: mixed.body) == #"{"accepted":3,"refused":2}"#)

      let own = try await client.execute(
        uri: "/v1/accelerometer/readings", method: .post,
        headers: headers(IngestFakes.token(.user, "gone@example.com")),
        body: ByteBuffer(string: accelerometerBody(user: "gone@example.com", count: 4)))
      #expect(own.status == .forbidden)
      let error = try #require(try JSONSerialization.jsonObject(with: Data(buffer: own.body)) as? [String: Any])
      #expect(error["reason"] as? String == "erased")
      #expect(!String(buffer: own.body).contains("gone@"))

      let device = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post, headers: headers(IngestFakes.token(.device, "S-GONE")),
        body: ByteBuffer(string: IngestFakes.stepTrainerBody(serial: "S-GONE", count: 8, start: cutoff - 4)))
      #expect(String(buffer: device.body) == #"{"accepted":3,"refused":5}"#)
      let untouched = try await client.execute(
        uri: "/v1/step-trainer/readings", method: .post, headers: headers(IngestFakes.token(.device, "S-1")),
        body: ByteBuffer(string: IngestFakes.stepTrainerBody(serial: "S-1", count: 6)))
      #expect(String(buffer: untouched.body) == #"{"accepted":6}"#)

      let text = metrics.render()
      #expect(
        text.contains(#"stedi_ingest_records_refused_total{source="accelerometer",reason="erased"} 6"#), "\(text)")
      #expect(text.contains(#"stedi_ingest_records_refused_total{source="step_trainer",reason="erased"} 5"#))
      #expect(text.contains(#"stedi_ingest_requests_rejected_total{reason="erased",status="403"} 1"#))
      #expect(text.contains(#"stedi_ingest_records_acknowledged_total{source="accelerometer"} 3"#))
    }
    let accelerometer = landed[.accelerometer] ?? []
    #expect(accelerometer.count == 3 && !accelerometer.contains { $0.contains("gone@") })
    #expect(landed[.stepTrainer]?.count == 3 + 6)
  }

  // MARK: the Ingestor

  @Test func recordsBufferedBeforeAnErasureDoNotLandAndEveryOtherLandsOnce() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let erasures = ErasureGuard()
    let metrics = IngestMetrics()
    let (ingestor, _) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder, limits: BatchLimits(maxAge: .seconds(600)),
      metrics: metrics, erasures: erasures)
    // Acknowledged before anyone was erased: checked against the empty list.
    for part in 0..<3 {
      let start = 1_700_000_000_000 + Int64(part * 10)
      for user in ["gone@example.com", "kept@example.com"] {
        _ = try await ingestor.accept(
          try batch(
            accelerometerBody(user: user, count: 10, start: start), .accelerometer, IngestFakes.token(.user, user)))
      }
    }
    _ = try await ingestor.accept(try stepTrainerBatch(serial: "S-1", count: 10, start: cutoff - 4))
    _ = try await ingestor.accept(try stepTrainerBatch(serial: "S-2", count: 10, start: cutoff - 4))
    // A customer erased only from customers: no other source holds anything of theirs.
    _ = try await ingestor.accept(
      try batch(
        customer("gone@example.com") + "\n" + customer("kept@example.com"), .customer,
        IngestFakes.token(.admin, "admin")))

    try await writeErasures(erasureList(emails: ["gone@example.com"], serials: [("S-1", cutoff)]), to: lake.storage)
    try await erasures.refresh(storage: lake.storage)
    #expect(erasures.version == 1)
    await ingestor.shutdown()

    let accelerometer = lake.landingLines(.accelerometer)
    #expect(!accelerometer.contains { $0.contains("gone@") })
    #expect(accelerometer.count == 30 && Set(accelerometer).count == 30)
    let kept: [String] = (0..<3).flatMap { (part: Int) -> [String] in
      ndjsonLines(accelerometerBody(user: "kept@example.com", count: 10, start: 1_700_000_000_000 + Int64(part * 10)))
    }
    #expect(Set(accelerometer) == Set(kept))
    let steps = lake.landingLines(.stepTrainer)
    #expect(steps.count == 5 + 10 && Set(steps).count == 15)
    let laterOwner = Array(
      ndjsonLines(IngestFakes.stepTrainerBody(serial: "S-1", count: 10, start: cutoff - 4)).suffix(5))
    #expect(steps.filter { $0.contains("S-1") } == laterOwner)
    #expect(lake.landingLines(.customer).count == 1)
    #expect(!lake.landingLines(.customer).contains { $0.contains("gone@") })
    #expect(
      metrics.render().contains(#"stedi_ingest_records_refused_total{source="accelerometer",reason="erased"} 30"#))
    #expect(metrics.render().contains(#"stedi_ingest_records_refused_total{source="step_trainer",reason="erased"} 5"#))

    // Nothing is left in the log to land again.
    let (again, recovery) = try await Ingestor.open(storage: lake.storage, logDirectory: lake.logFolder)
    #expect(recovery.sealedBatchesRelanded == 0 && recovery.unsealedRecordsReplayed == 0)
    await again.shutdown()
  }

  @Test func aBatchOfOnlyErasedRecordsWritesNoFileButIsReleased() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let erasures = ErasureGuard()
    let (ingestor, _) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder, limits: BatchLimits(maxAge: .seconds(600)),
      erasures: erasures)
    _ = try await ingestor.accept(
      try batch(
        accelerometerBody(user: "gone@example.com", count: 10), .accelerometer,
        IngestFakes.token(.user, "gone@example.com")))
    // Not refreshed here: the Ingestor reloads the list itself before it lands a batch.
    try await writeErasures(erasureList(emails: ["gone@example.com"]), to: lake.storage)
    await ingestor.shutdown()
    #expect(lake.landingFiles(.accelerometer).isEmpty)
    #expect(erasures.version == 1)
    let (again, recovery) = try await Ingestor.open(storage: lake.storage, logDirectory: lake.logFolder)
    #expect(recovery.sealedBatchesRelanded == 0 && recovery.unsealedRecordsReplayed == 0)
    await again.shutdown()
    #expect(lake.landingFiles(.accelerometer).isEmpty)
  }

  @Test func aBatchRetriedWhileStorageIsAwayIsCheckedAgainOnEachAttempt() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let storage = FlakyStorage(lake.storage)
    storage.failing.store(true, ordering: .relaxed)
    let erasures = ErasureGuard()
    let (ingestor, _) = try await Ingestor.open(
      storage: storage, logDirectory: lake.logFolder, limits: BatchLimits(maxRecords: 20, maxAge: .seconds(600)),
      erasures: erasures)
    _ = try await ingestor.accept(
      try batch(
        accelerometerBody(user: "gone@example.com", count: 10) + accelerometerBody(user: "kept@example.com", count: 10),
        .accelerometer, IngestFakes.token(.admin, "admin")))
    await eventually("a failed landing attempt") { storage.puts.load(ordering: .relaxed) >= 1 }
    try await writeErasures(erasureList(emails: ["gone@example.com"]), to: lake.storage)
    storage.failing.store(false, ordering: .relaxed)
    await eventually("the batch to land") { lake.landingLines(.accelerometer).count == 10 }
    await ingestor.shutdown()
    #expect(
      lake.landingLines(.accelerometer)
        == accelerometerBody(user: "kept@example.com", count: 10).split(separator: "\n").map(String.init))
  }

  @Test func replayingTheLogAfterACrashLeavesOutCustomersErasedMeanwhile() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let storage = FlakyStorage(lake.storage)
    let (first, _) = try await Ingestor.open(
      storage: storage, logDirectory: lake.logFolder, limits: BatchLimits(maxRecords: 20, maxAge: .seconds(600)))
    // A sealed batch that cannot land (storage away), then records still buffered; then a crash.
    storage.failing.store(true, ordering: .relaxed)
    _ = try await first.accept(
      try batch(
        accelerometerBody(user: "gone@example.com", count: 10) + accelerometerBody(user: "kept@example.com", count: 10),
        .accelerometer, IngestFakes.token(.admin, "admin")))
    _ = try await first.accept(try stepTrainerBatch(serial: "S-1", count: 10, start: cutoff - 4))
    _ = try await first.accept(
      try batch(
        accelerometerBody(user: "gone@example.com", count: 3, start: 1_700_000_100_000), .accelerometer,
        IngestFakes.token(.user, "gone@example.com")))
    _ = try await first.accept(
      try batch(
        accelerometerBody(user: "kept@example.com", count: 3, start: 1_700_000_100_000), .accelerometer,
        IngestFakes.token(.user, "kept@example.com")))
    await eventually("a failed landing attempt") { storage.puts.load(ordering: .relaxed) >= 1 }
    await first.abandon()

    try await writeErasures(erasureList(emails: ["gone@example.com"], serials: [("S-1", cutoff)]), to: lake.storage)
    let erasures = ErasureGuard()
    try await erasures.refresh(storage: lake.storage)
    let metrics = IngestMetrics()
    let (second, recovery) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder, metrics: metrics, erasures: erasures)
    #expect(recovery.sealedBatchesRelanded == 1)
    #expect(recovery.unsealedRecordsReplayed == 16)
    await second.shutdown()
    let accelerometer = lake.landingLines(.accelerometer)
    #expect(!accelerometer.contains { $0.contains("gone@") })
    #expect(accelerometer.count == 13 && Set(accelerometer).count == 13)
    #expect(lake.landingLines(.stepTrainer).count == 5)
    #expect(
      metrics.render().contains(#"stedi_ingest_records_refused_total{source="accelerometer",reason="erased"} 13"#))
  }

  @Test func aReplayedBatchAlreadyWrittenBeforeTheCrashIsRewrittenOrRemoved() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    // The store takes each landing file but the answer never comes: the batches stay uncommitted.
    let (first, _) = try await Ingestor.open(
      storage: WriteThenFailStorage(lake.storage), logDirectory: lake.logFolder,
      limits: BatchLimits(maxRecords: 10, maxAge: .seconds(600)))
    _ = try await first.accept(
      try batch(
        accelerometerBody(user: "gone@example.com", count: 10), .accelerometer,
        IngestFakes.token(.user, "gone@example.com")))
    _ = try await first.accept(try stepTrainerBatch(serial: "S-1", count: 10, start: cutoff - 4))
    await eventually("both files written") {
      lake.landingFiles(.accelerometer).count == 1 && lake.landingFiles(.stepTrainer).count == 1
    }
    await first.abandon()
    let stepFile = lake.landingFiles(.stepTrainer)

    try await writeErasures(erasureList(emails: ["gone@example.com"], serials: [("S-1", cutoff)]), to: lake.storage)
    let erasures = ErasureGuard()
    try await erasures.refresh(storage: lake.storage)
    let (second, recovery) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder, erasures: erasures)
    #expect(recovery.sealedBatchesRelanded == 2)
    await second.shutdown()
    // Every line was the erased customer's: the file is gone, not left as it was.
    #expect(lake.landingFiles(.accelerometer).isEmpty)
    // Half of them were: the same file, rewritten without them.
    #expect(lake.landingFiles(.stepTrainer) == stepFile)
    #expect(lake.landingLines(.stepTrainer).count == 5)
  }
}
