import Dispatch
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

/// FIFOs, sockets and devices named like table files: reported, counted, never opened, so that
/// no run blocks on one while it holds the lake's lock.
@Suite struct NonRegularLandingTests {
  /// Makes a FIFO at `path` (no writer ever opens it: opening it for reading would block forever).
  static func makeFIFO(_ path: String) throws {
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    guard mkfifo(path, 0o644) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
  }

  /// Binds a Unix socket at `path`; the returned descriptor keeps it alive until closed.
  static func makeSocket(_ path: String) throws -> Int32 {
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    #if canImport(Glibc)
      let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    #else
      let fd = socket(AF_UNIX, SOCK_STREAM, 0)
    #endif
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    precondition(bytes.count < MemoryLayout.size(ofValue: address.sun_path), "socket path too long")
    withUnsafeMutableBytes(of: &address.sun_path) { slot in
      for (index, byte) in bytes.enumerated() { slot[index] = byte }
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard bound == 0 else {
      close(fd)
      throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
    return fd
  }

  /// Runs async `body` in a task of its own and waits up to `seconds`; nil when it did not
  /// finish (a run blocked on a FIFO is then a failed test, not a test run that never ends). The
  /// wait polls with `Task.sleep`, so it holds no thread the run might need.
  static func finishing<Value: Sendable>(
    within seconds: Double, _ body: @escaping @Sendable () async throws -> Value
  ) async -> Result<Value, any Error>? {
    let box = ResultBox<Value>()
    Task.detached {
      do {
        box.set(.success(try await body()))
      } catch {
        box.set(.failure(error))
      }
    }
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
      if let result = box.peek() { return result }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return nil
  }

  /// Runs `body` on a thread of its own and waits up to `seconds`; nil when it did not finish
  /// (a hang is then a failed test, not a test run that never ends).
  static func finishing<Value: Sendable>(
    within seconds: Double, _ body: @escaping @Sendable () throws -> Value
  ) -> Result<Value, any Error>? {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<Value>()
    Thread {
      box.set(Result { try body() })
      done.signal()
    }.start()
    guard done.wait(timeout: .now() + seconds) == .success else { return nil }
    return box.get()
  }

  @Test func aFIFOAndASocketAreQuarantinedNotOpenedAndTheRunReconciles() async throws {
    let root = try TemporaryFolder("fifo", prefix: "lakehouse").path  // short: a socket's path must fit in 108 bytes
    defer { TemporaryFolder(existing: root).remove() }
    try SampleLakeGenerator(customers: 20, seed: 5).write(to: root)
    try Self.makeFIFO("\(root)/customer/landing/zz-fifo.json")
    try Self.makeFIFO("\(root)/accelerometer/landing/nested/pipe.json")
    // Not named like a table file: not part of the table at all, so not reported either.
    try Self.makeFIFO("\(root)/step_trainer/landing/pipe.txt")
    let socketPath = "\(root)/step_trainer/landing/s.json"
    let socket = try Self.makeSocket(socketPath)
    defer { close(socket) }

    let outcome = await Self.finishing(within: 300) { try await LakeFixtures.run(root) }
    let summary = try #require(outcome, "the run blocked on a FIFO").get()
    #expect(summary.published)
    for source in LandingSource.allCases {
      let counts = try #require(summary.lines[source])
      #expect(counts.read == counts.accepted + counts.quarantined + counts.blank, "\(source)")
      #expect(summary.quarantineReasons[source]?[.notARegularFile] == 1, "\(source)")
    }

    let entries = try quarantineEntries(root, "customer")
    let fifo = try #require(entries.first { $0["reason"] as? String == "not_a_regular_file" })
    #expect(fifo["sourceFile"] as? String == "customer/landing/zz-fifo.json")
    #expect(fifo["line"] as? Int == 0)
    #expect((fifo["detail"] as? String)?.contains("FIFO") == true)
    let socketEntry = try #require(
      try quarantineEntries(root, "step_trainer").first { $0["reason"] as? String == "not_a_regular_file" })
    #expect(socketEntry["sourceFile"] as? String == "step_trainer/landing/s.json")
    #expect((socketEntry["detail"] as? String)?.contains("socket") == true)
    let nested = try quarantineEntries(root, "accelerometer").filter { $0["reason"] as? String == "not_a_regular_file" }
    #expect(nested.map { $0["sourceFile"] as? String } == ["accelerometer/landing/nested/pipe.json"])

    // The lock went with the run: the next run, and a check, work on the same lake.
    let lake = try Lake(root: root)
    _ = try LakeLock(lake: lake)
    let again = try #require(await Self.finishing(within: 300) { try await LakeFixtures.run(root) })
      .get()
    #expect(again.published)
    let check = try #require(
      await Self.finishing(within: 300) { try await QualityCheck(lake: lake, key: LakeFixtures.testKey).run().passed }
    ).get()
    #expect(check)
  }

  @Test func theReaderReportsAFIFOInFileOrderAndCountsItAsOneLine() throws {
    let root = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: root).remove() }
    let line = #"{"sensorReadingTime": 1700000000000, "serialNumber": "s1", "distanceFromObject": 5}"#
    try FileManager.default.createDirectory(atPath: "\(root)/t", withIntermediateDirectories: true)
    try Data("\(line)\n\(line)\n".utf8).write(to: URL(fileURLWithPath: "\(root)/t/a.json"))
    try Self.makeFIFO("\(root)/t/b.json")
    try Data("\(line)\n".utf8).write(to: URL(fileURLWithPath: "\(root)/t/c.json"))
    let lake = try Lake(root: root)
    let files = try lake.tableFiles(in: "t")
    #expect(files.map(\.type) == [.regular, .fifo, .regular])

    let outcome = Self.finishing(within: 60) { () throws -> (LineCounts, [QuarantinedLine]) in
      var quarantined: [QuarantinedLine] = []
      let counts = try NDJSONTableReader(parallelism: 2).read(
        files, makeConsumer: { StepCounter() }, absorb: { _ in }, quarantine: { quarantined.append($0) })
      return (counts, quarantined)
    }
    let (counts, quarantined) = try #require(outcome, "the reader blocked on a FIFO").get()
    #expect(counts.read == 4 && counts.accepted == 3 && counts.quarantined == 1 && counts.blank == 0)
    #expect(
      quarantined.map { [$0.sourceFile, "\($0.line)", $0.reason.rawValue] } == [
        ["t/b.json", "0", "not_a_regular_file"]
      ])
  }

  @Test func aFileReplacedByAFIFOAfterListingIsCaughtWhenOpened() throws {
    // The race the second guard is for: listed as a regular file, a FIFO by the time it is read.
    let root = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: root).remove() }
    try FileManager.default.createDirectory(atPath: "\(root)/t", withIntermediateDirectories: true)
    try Data("{}\n".utf8).write(to: URL(fileURLWithPath: "\(root)/t/a.json"))
    let files = try Lake(root: root).tableFiles(in: "t")
    #expect(files.map(\.type) == [.regular])
    try FileManager.default.removeItem(atPath: "\(root)/t/a.json")
    try Self.makeFIFO("\(root)/t/a.json")

    for windowSize in [32 * 1024 * 1024, 16] {  // the batch path, and the large-file path
      var listed = files
      listed[0].size = windowSize == 16 ? 64 : 3
      let outcome = Self.finishing(within: 60) { [listed] () throws -> (LineCounts, [QuarantinedLine]) in
        var quarantined: [QuarantinedLine] = []
        let counts = try NDJSONTableReader(windowSize: windowSize, parallelism: 2).read(
          listed, makeConsumer: { StepCounter() }, absorb: { _ in }, quarantine: { quarantined.append($0) })
        return (counts, quarantined)
      }
      let (counts, quarantined) = try #require(outcome, "the reader blocked on a FIFO").get()
      #expect(counts.read == 1 && counts.quarantined == 1, "window \(windowSize)")
      #expect(quarantined.map(\.reason) == [.notARegularFile], "window \(windowSize)")
      #expect(quarantined.first?.detail.contains("FIFO") == true)
    }
  }

  @Test func folderStorageNeitherListsNorOpensAFIFO() async throws {
    let root = try TemporaryFolder("storage", prefix: "lakehouse").path
    defer { TemporaryFolder(existing: root).remove() }
    let storage = FileSystemStorage(root: root)
    try await storage.put("customer/landing/a.json", bytes: Array("{}\n".utf8))
    try Self.makeFIFO("\(root)/customer/landing/b.json")
    let socket = try Self.makeSocket("\(root)/customer/landing/c.json")
    defer { close(socket) }

    #expect(try await storage.list(prefix: "customer/").map(\.key) == ["customer/landing/a.json"])
    // A get of the FIFO's key answers at once (a blocking open would wait for a writer forever).
    // Polled without blocking a thread, so a hang fails the test instead of stalling the run.
    let box = ResultBox<String>()
    Task {
      do {
        _ = try await storage.get("customer/landing/b.json")
        box.set(.success("read"))
      } catch {
        box.set(.success("\(error)"))
      }
    }
    let deadline = ContinuousClock.now + .seconds(60)
    while box.peek() == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    let answer = try #require(box.peek(), "get blocked on a FIFO").get()
    #expect(answer == "\(StorageError.notFound(key: "customer/landing/b.json", location: root))")
  }
}

/// Counts step-trainer lines (the reader tests need records, not their values).
private struct StepCounter: NDJSONLineConsumer {
  mutating func consume(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError) {
    _ = try StepTrainerReading.decode(line)
  }
}

/// A result handed from one thread to another.
final class ResultBox<Value: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Result<Value, any Error>?

  func set(_ result: Result<Value, any Error>) { lock.withLock { value = result } }
  func get() -> Result<Value, any Error> { lock.withLock { value! } }
  func peek() -> Result<Value, any Error>? { lock.withLock { value } }
}

/// The quarantine entries of a source's published quarantine table.
func quarantineEntries(_ lake: String, _ source: String) throws -> [[String: Any]] {
  let folder = "\(lake)/\(source)/quarantine"
  var entries: [[String: Any]] = []
  for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where name.hasSuffix(".json") {
    let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)"))
    for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
      entries.append(try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any])
    }
  }
  return entries
}
