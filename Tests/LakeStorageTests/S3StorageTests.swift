import Foundation
import StediTestSupport
import Testing

@testable import LakeStorage

/// S3Storage against a real SeaweedFS server (one per test process, see SeaweedFSServer), which
/// checks our signatures: the shared storage behaviours, multipart uploads, and the errors a
/// person meets (wrong secret, unknown key, no write rights, server down).
///
/// Without `weed` installed these tests are skipped with that reason, except under CI (`CI` set),
/// where they run and fail: `bash scripts/test.sh` installs it.
@Suite(
  .enabled(
    if: SeaweedFSServer.testsEnabled,
    "SeaweedFS's weed is not installed: run `bash scripts/test.sh` or `bash scripts/install-seaweedfs.sh`"))
struct S3StorageTests {
  /// Storage for a new, empty lake on the shared server.
  static func freshLake(multipartThreshold: Int = 16 << 20, partSize: Int = 8 << 20) async throws -> S3Storage {
    try await SeaweedFSServer.shared().freshLake(multipartThreshold: multipartThreshold, partSize: partSize)
  }

  @Test func roundTrip() async throws { try await StorageBehaviours.roundTrip(try await Self.freshLake()) }
  @Test func listing() async throws { try await StorageBehaviours.listing(try await Self.freshLake()) }
  @Test func createIfAbsent() async throws {
    try await StorageBehaviours.createIfAbsent(try await Self.freshLake())
  }
  @Test func deletion() async throws { try await StorageBehaviours.deletion(try await Self.freshLake()) }
  @Test func missingKey() async throws { try await StorageBehaviours.missingKey(try await Self.freshLake()) }
  @Test func readersNeverSeePartialObjects() async throws {
    try await StorageBehaviours.readersNeverSeePartialObjects(try await Self.freshLake(), size: 64 << 10)
  }

  /// More than 1,000 objects take more than one ListObjectsV2 page: continuation tokens work. In a
  /// bucket of its own with no prefix, so lake keys are object keys.
  @Test func manyObjectsAcrossListingPages() async throws {
    let server = try await SeaweedFSServer.shared()
    try await server.createBucket("many-objects")
    try await StorageBehaviours.manyObjects(server.storage(bucket: "many-objects"))
  }

  /// A 12 MiB object goes up in three parts (5, 5 and 2 MiB) and reads back identical.
  @Test func multipartUpload() async throws {
    let storage = try await Self.freshLake(multipartThreshold: 5 << 20, partSize: 5 << 20)
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: 12 << 20)
    bytes.withUnsafeMutableBytes { raw in
      let words = raw.bindMemory(to: UInt64.self)
      for index in words.indices { words[index] = generator.next() }
    }
    try await storage.put("tables/big.json", bytes: bytes)
    let back = try await storage.get("tables/big.json")
    #expect(back.count == bytes.count)
    #expect(back == bytes)
    #expect(try await storage.list(prefix: "tables/") == [StoredObject(key: "tables/big.json", size: 12 << 20)])
    // S3 (and SeaweedFS) mark a multipart object's ETag with its number of parts.
    let eTag = try await storage.head("tables/big.json").eTag
    #expect(eTag.hasSuffix("-3\"") || eTag.hasSuffix("-3"), "ETag \(eTag)")
  }

  /// Lakes under different prefixes of one bucket do not see each other's objects; the bucket root
  /// sees both under their full keys.
  @Test func prefixesSeparateLakes() async throws {
    let server = try await SeaweedFSServer.shared()
    try await server.createBucket("two-lakes")
    let first = server.storage(bucket: "two-lakes", prefix: "first")
    let second = server.storage(bucket: "two-lakes", prefix: "second/lake/")
    try await first.put("a.json", bytes: [1])
    try await second.put("a.json", bytes: [2, 2])
    #expect(try await first.list(prefix: "") == [StoredObject(key: "a.json", size: 1)])
    #expect(try await second.get("a.json") == [2, 2])
    #expect(second.location == "s3://two-lakes/second/lake")
    let whole = server.storage(bucket: "two-lakes")
    #expect(try await whole.list(prefix: "").map(\.key) == ["first/a.json", "second/lake/a.json"])
  }

  /// Creating a bucket that is already ours is fine.
  @Test func createBucketTwice() async throws {
    let server = try await SeaweedFSServer.shared()
    try await server.createBucket("created-twice")
    try await server.createBucket("created-twice")
  }

  // MARK: Errors a person meets

  /// A wrong secret is refused by the server's signature check, and the message says so plainly.
  @Test func wrongSecretIsAccessDenied() async throws {
    let server = try await SeaweedFSServer.shared()
    try await server.createBucket("lakes")
    var configuration = server.configuration(bucket: "lakes")
    configuration.secretAccessKey = "not-the-secret"
    let storage = S3Storage(configuration: configuration)
    let error = await #expect(throws: StorageError.self) { try await storage.list(prefix: "") }
    guard case .accessDenied(let location, let reason) = error else {
      Issue.record("expected accessDenied, got \(String(describing: error))")
      return
    }
    #expect(location == "s3://lakes")
    #expect(reason.contains("rejected the request signature"))
    #expect(reason.contains("secret access key does not match the access key id \(server.accessKey)"))
    #expect(reason.contains("SignatureDoesNotMatch"))
  }

  @Test func unknownAccessKeyIsAccessDenied() async throws {
    let server = try await SeaweedFSServer.shared()
    try await server.createBucket("lakes")
    var configuration = server.configuration(bucket: "lakes")
    configuration.accessKeyID = "AKIANOSUCHKEY"
    let error = await #expect(throws: StorageError.self) {
      try await S3Storage(configuration: configuration).get("x.json")
    }
    guard case .accessDenied(_, let reason) = error else {
      Issue.record("expected accessDenied, got \(String(describing: error))")
      return
    }
    #expect(reason.contains("does not know the access key id AKIANOSUCHKEY"))
    #expect(reason.contains("InvalidAccessKeyId"))
  }

  /// A key allowed to read but not to write can read; its writes are `.accessDenied`.
  @Test func readOnlyKeyCannotWrite() async throws {
    let server = try await SeaweedFSServer.shared()
    let lake = try await server.freshLake()
    try await lake.put("landing/a.json", bytes: [1])
    var configuration = lake.configuration
    configuration.accessKeyID = server.readOnlyAccessKey
    configuration.secretAccessKey = server.readOnlySecretKey
    let reader = S3Storage(configuration: configuration)
    #expect(try await reader.get("landing/a.json") == [1])
    let error = await #expect(throws: StorageError.self) { try await reader.put("landing/b.json", bytes: [2]) }
    guard case .accessDenied(_, let reason) = error else {
      Issue.record("expected accessDenied, got \(String(describing: error))")
      return
    }
    #expect(reason.contains("may not do this: storing landing/b.json"))
  }

  @Test func missingBucketIsReported() async throws {
    let storage = try await SeaweedFSServer.shared().storage(bucket: "no-such-bucket")
    let error = await #expect(throws: StorageError.self) { try await storage.get("x.json") }
    #expect(
      error?.description.contains("the bucket no-such-bucket does not exist") == true, "\(String(describing: error))")
  }

  /// A stopped server is `.unreachable` at once (not after a timeout), and stopping removed its folder.
  @Test func stoppedServerIsUnreachable() async throws {
    let server = try await SeaweedFSServer.start()
    try await server.createBucket("lakes")
    let storage = server.storage(bucket: "lakes")
    try await storage.put("a.json", bytes: [1])
    await server.stopped()
    #expect(!FileManager.default.fileExists(atPath: server.directory))
    let started = ContinuousClock.now
    let error = await #expect(throws: StorageError.self) { try await storage.get("a.json") }
    #expect(ContinuousClock.now - started < .seconds(5))
    guard case .unreachable(let location, let reason) = error else {
      Issue.record("expected unreachable, got \(String(describing: error))")
      return
    }
    #expect(location.contains(server.endpoint))
    #expect(reason.lowercased().contains("refused"), "\(reason)")
  }
}
