import Foundation
import Synchronization
import Testing

@testable import LakeStorage

/// What every `LakeStorage` must do, written once and run on each backend by
/// FileSystemStorageTests and S3StorageTests.
enum StorageBehaviours {
  /// Bytes of every value, an object with spaces and non-ASCII in its key, an empty object, and an
  /// overwrite all read back exactly.
  static func roundTrip(_ storage: some LakeStorage) async throws {
    let binary = (0..<3).flatMap { _ in (0...255).map { UInt8($0) } }
    try await storage.put("step_trainer/landing/binary.bin", bytes: binary)
    #expect(try await storage.get("step_trainer/landing/binary.bin") == binary)

    let oddKey = "step_trainer/landing/a b/\u{FC}n\u{EF} \u{20AC}ode+%20&=.json"
    let json = Array("{\"sensorReadingTime\":1}\n".utf8)
    try await storage.put(oddKey, bytes: json)
    #expect(try await storage.get(oddKey) == json)
    #expect(
      try await storage.list(prefix: "step_trainer/landing/a b/") == [StoredObject(key: oddKey, size: json.count)])

    try await storage.put("empty", bytes: [])
    #expect(try await storage.get("empty") == [])

    try await storage.put("step_trainer/landing/binary.bin", bytes: [42])
    #expect(try await storage.get("step_trainer/landing/binary.bin") == [42])
    // Storing the same bytes again is harmless (replays rely on it).
    try await storage.put("step_trainer/landing/binary.bin", bytes: [42])
    #expect(try await storage.get("step_trainer/landing/binary.bin") == [42])
  }

  /// `create` writes a key only while it is free: of 8 writers racing for each of 5 keys exactly
  /// one wins, and the key holds the winner's bytes, whole.
  static func createIfAbsent(_ storage: some LakeStorage) async throws {
    #expect(try await storage.create("table/_delta_log/0.json", bytes: Array("first".utf8)))
    #expect(try await storage.create("table/_delta_log/0.json", bytes: Array("second".utf8)) == false)
    #expect(try await storage.get("table/_delta_log/0.json") == Array("first".utf8))
    for version in 1...5 {
      let key = "table/_delta_log/\(version).json"
      let winners = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
        for writer in 0..<8 {
          group.addTask {
            let bytes = [UInt8](repeating: UInt8(writer), count: 4096)
            return (writer, try await storage.create(key, bytes: bytes))
          }
        }
        var winners: [Int] = []
        for try await (writer, won) in group where won { winners.append(writer) }
        return winners
      }
      #expect(winners.count == 1, "\(key): \(winners.count) writers won")
      if let winner = winners.first {
        #expect(try await storage.get(key) == [UInt8](repeating: UInt8(winner), count: 4096))
      }
    }
    // No temporary file is left behind by the losers.
    #expect(try await storage.list(prefix: "table/").count == 6)
  }

  /// A prefix selects keys that start with it, folder or not; metadata under `_stedi/` is listed;
  /// results are sorted by key and carry sizes.
  static func listing(_ storage: some LakeStorage) async throws {
    let objects = [
      "customer/landing/2.json": 2, "customer/landing/1.json": 1, "customer/trusted/x.json": 3,
      "customerx/y.json": 4, "_stedi/runs/r1.json": 5, "z.json": 6,
    ]
    for (key, size) in objects { try await storage.put(key, bytes: [UInt8](repeating: 7, count: size)) }
    #expect(
      try await storage.list(prefix: "customer/landing/") == [
        StoredObject(key: "customer/landing/1.json", size: 1), StoredObject(key: "customer/landing/2.json", size: 2),
      ])
    #expect(
      try await storage.list(prefix: "customer").map(\.key) == [
        "customer/landing/1.json", "customer/landing/2.json", "customer/trusted/x.json", "customerx/y.json",
      ])
    #expect(try await storage.list(prefix: "_stedi/").map(\.key) == ["_stedi/runs/r1.json"])
    let everything = try await storage.list(prefix: "")
    #expect(everything.map(\.key) == objects.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    #expect(everything.map(\.size).reduce(0, +) == 21)
    #expect(try await storage.list(prefix: "nothing/here/").isEmpty)
  }

  /// More objects than one S3 listing page (1,000) are all listed.
  static func manyObjects(_ storage: some LakeStorage, count: Int = 1_005) async throws {
    let keys = (0..<count).map { "many/\($0).json" }
    try await withThrowingTaskGroup(of: Void.self) { group in
      // At most 16 puts at once: quick, without flooding the server.
      for (index, key) in keys.enumerated() {
        if index >= 16 { try await group.next() }
        group.addTask { try await storage.put(key, bytes: [UInt8(index & 0xFF)]) }
      }
      try await group.waitForAll()
    }
    let listed = try await storage.list(prefix: "many/")
    #expect(listed.count == count)
    #expect(listed.map(\.key) == keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    #expect(listed.allSatisfy { $0.size == 1 })
  }

  /// A deleted object is gone; deleting a missing one is not an error.
  static func deletion(_ storage: some LakeStorage) async throws {
    try await storage.put("doomed/a.json", bytes: [1, 2, 3])
    try await storage.put("doomed/b.json", bytes: [4])
    try await storage.delete("doomed/a.json")
    await #expect(throws: StorageError.notFound(key: "doomed/a.json", location: storage.location)) {
      try await storage.get("doomed/a.json")
    }
    #expect(try await storage.list(prefix: "doomed/").map(\.key) == ["doomed/b.json"])
    try await storage.delete("doomed/a.json")
    try await storage.delete("never/stored.json")
  }

  /// Reading a key that was never stored is `.notFound`, naming the lake key and the location.
  static func missingKey(_ storage: some LakeStorage) async throws {
    await #expect(throws: StorageError.notFound(key: "no/such/key.json", location: storage.location)) {
      try await storage.get("no/such/key.json")
    }
  }

  /// A reader listing and reading while a writer stores objects never sees part of one: every
  /// object it lists has the full size, and every read is whole and of one version.
  static func readersNeverSeePartialObjects(_ storage: some LakeStorage, size: Int = 256 << 10) async throws {
    let finished = Flag()
    async let writing: Void = {
      defer { finished.set() }
      for version in 0..<24 {
        // Each version fills the object with one value: a torn read would mix two values, a
        // partial one would be short.
        try await storage.put("race/object-\(version % 4)", bytes: [UInt8](repeating: UInt8(version), count: size))
      }
    }()
    var reads = 0
    var lastRound = false
    while !lastRound {
      lastRound = finished.isSet  // one more round after the writer is done
      for object in try await storage.list(prefix: "race/") {
        #expect(object.size == size, "listed \(object.key) with \(object.size) bytes")
        let bytes = try await storage.get(object.key)
        #expect(bytes.count == size, "read \(object.key) with \(bytes.count) bytes")
        #expect(Set(bytes).count == 1, "read \(object.key) mixing versions")
        reads += 1
      }
    }
    try await writing
    #expect(reads > 0)
  }

  /// A flag one task sets and another reads.
  final class Flag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
  }
}
