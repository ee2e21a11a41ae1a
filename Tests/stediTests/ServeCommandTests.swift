import Foundation
import StediTestSupport
import Synchronization
import Testing

@Suite(.serialized) struct ServeCommandTests {
  private func issue(_ lake: String, _ arguments: [String]) throws -> String {
    let outcome = try StediProcess.run(["token", "issue", "--lake", lake] + arguments)
    #expect(outcome.status == 0, "\(outcome.stderr)")
    return outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  private func readings(serial: String, from start: Int, count: Int) -> String {
    (start..<start + count).map {
      #"{"sensorReadingTime":\#(1_700_000_000_000 + $0),"serialNumber":"\#(serial)","distanceFromObject":\#(100 + $0 % 200)}"#
    }.joined(separator: "\n")
  }

  @Test func tokensFromTheCLIAreAcceptedAndLandedReadingsPassThePipeline() async throws {
    let lake = try TemporaryFolder()
    defer { lake.remove() }
    let device = try issue(lake.path, ["--device", "S-1"])
    let other = try issue(lake.path, ["--device", "S-2"])
    let server = try await ServeProcess.start(["--lake", lake.path, "--batch-max-age", "600"])
    #expect(
      await server.post("/v1/step-trainer/readings", token: device, body: readings(serial: "S-1", from: 0, count: 40))
        == 202)
    #expect(
      await server.post("/v1/step-trainer/readings", token: other, body: readings(serial: "S-1", from: 40, count: 1))
        == 403)
    #expect(
      await server.post(
        "/v1/step-trainer/readings", token: "stedi1.x.y", body: readings(serial: "S-1", from: 40, count: 1)) == 401)
    let (status, stderr) = await server.stop()
    #expect(status == 0, "\(stderr)")
    #expect(!stderr.contains(device) && !stderr.contains(other), "tokens must never reach the logs")
    #expect(landingLines(lake.path, "step_trainer").count == 40)
    let key = try #require(
      FileManager.default.attributesOfItem(atPath: "\(lake.path)/_stedi/token.key")[.posixPermissions] as? Int)
    #expect(key == 0o600)
    let pipeline = try StediProcess.run(["pipeline", "run", "--lake", lake.path, "--json"])
    let funnel = try #require(try JSONSerialization.jsonObject(with: Data(pipeline.stdout.utf8)) as? [String: Any])
    #expect((funnel["quarantined"] as? [String: Int])?["step_trainer"] == 0, "\(pipeline.stdout)")
    #expect((funnel["tables"] as? [String: Int])?["step_trainer_landing"] == 40, "\(pipeline.stdout)")
  }

  /// A torn write at the end of the log (what a crash mid-append leaves) is reported at start-up
  /// and skipped: the service starts, and everything acknowledged before it still lands.
  @Test func aTornLogTailIsReportedAndSkippedAtStartUp() async throws {
    let lake = try TemporaryFolder()
    defer { lake.remove() }
    let token = try issue(lake.path, ["--device", "S-1"])
    let first = try await ServeProcess.start(["--lake", lake.path, "--batch-max-age", "600"])
    #expect(
      await first.post("/v1/step-trainer/readings", token: token, body: readings(serial: "S-1", from: 0, count: 30))
        == 202)
    await first.kill9()
    let wal = "\(lake.path)/_stedi/ingest-wal"
    let segment = try #require(
      try FileManager.default.contentsOfDirectory(atPath: wal).filter { $0.hasSuffix(".log") }.sorted().last)
    let handle = try #require(FileHandle(forWritingAtPath: "\(wal)/\(segment)"))
    handle.seekToEndOfFile()
    // Half a record header and some payload: a write the crash cut short.
    handle.write(Data([0x57, 0x41, 0x4C, 0x31, 0x40, 0x00, 0x00, 0x00, 0x09, 0x00]) + Data(repeating: 0x7B, count: 21))
    try handle.close()

    let second = try await ServeProcess.start(["--lake", lake.path, "--batch-max-age", "600"])
    #expect(
      await second.post("/v1/step-trainer/readings", token: token, body: readings(serial: "S-1", from: 30, count: 5))
        == 202)
    let (status, stderr) = await second.stop()
    #expect(status == 0, "\(stderr)")
    #expect(stderr.contains("write-ahead log damage"), "\(stderr)")
    let landed = landingLines(lake.path, "step_trainer")
    #expect(landed.count == 35)
    #expect(Set(landed).count == 35)
  }

  /// The issue's durability test: load running, kill -9 at random moments, restart; landing must
  /// hold every acknowledged reading exactly once, and nothing that was never sent.
  @Test func killedWithSigkillUnderLoadLandingHoldsExactlyTheAcknowledgedReadings() async throws {
    let lake = try TemporaryFolder()
    defer { lake.remove() }
    let token = try issue(lake.path, ["--device", "S-1"])
    let load = LoadLedger()
    var generator = SystemRandomNumberGenerator()
    let batch = 50
    for round in 0..<6 {
      let server = try await ServeProcess.start([
        "--lake", lake.path, "--batch-max-records", "400", "--batch-max-age", "0.2",
      ])
      load.running(true)
      let senders = (0..<4).map { _ in
        Task {
          while load.isRunning {
            let first = load.nextBatch(batch)
            let ids = Set(first..<first + batch)
            let status = await server.post(
              "/v1/step-trainer/readings", token: token, body: readings(serial: "S-1", from: first, count: batch),
              timeout: .seconds(5))
            if status == 202 {
              load.acknowledged(ids)
            } else if status == nil {
              // No answer: the service may or may not have made it durable before dying.
              load.unanswered(ids)
            } else {
              Issue.record("unexpected status \(status!) in round \(round)")
            }
            if status == nil { break }
          }
        }
      }
      try await Task.sleep(for: .milliseconds(Int64.random(in: 150...900, using: &generator)))
      await server.kill9()
      load.running(false)
      for sender in senders { await sender.value }
    }
    // A last start replays the log; a clean stop lands what is left.
    let last = try await ServeProcess.start(["--lake", lake.path, "--batch-max-age", "600"])
    let (status, stderr) = await last.stop()
    #expect(status == 0, "\(stderr)")

    let landed = landingLines(lake.path, "step_trainer").map { line -> Int in
      let time = line.firstMatch(of: /"sensorReadingTime":(\d+)/)!.1
      return Int(time)! - 1_700_000_000_000
    }
    let (acked, doubtful) = load.outcome
    #expect(acked.count > 1000, "the load should have been acknowledged many times over")
    #expect(landed.count == Set(landed).count, "a reading landed twice")
    let missing = acked.subtracting(landed)
    #expect(missing.isEmpty, "\(missing.count) acknowledged readings were lost")
    let unexplained = Set(landed).subtracting(acked).subtracting(doubtful)
    #expect(unexplained.isEmpty, "\(unexplained.count) landed readings were never sent")
  }
}

/// What the load in the kill -9 test sent and what became of it, shared by its sender tasks.
final class LoadLedger: Sendable {
  private struct State {
    var next = 0
    var running = false
    var acknowledged = Set<Int>()
    var unanswered = Set<Int>()
  }
  private let state = Mutex(State())

  var isRunning: Bool { state.withLock { $0.running } }
  func running(_ value: Bool) { state.withLock { $0.running = value } }
  /// The first id of a new batch of `size` readings.
  func nextBatch(_ size: Int) -> Int {
    state.withLock { state in
      defer { state.next += size }
      return state.next
    }
  }
  func acknowledged(_ ids: Set<Int>) { state.withLock { $0.acknowledged.formUnion(ids) } }
  /// Sent, but no answer came: the service may have made them durable before dying, or not.
  func unanswered(_ ids: Set<Int>) { state.withLock { $0.unanswered.formUnion(ids) } }
  var outcome: (acknowledged: Set<Int>, unanswered: Set<Int>) { state.withLock { ($0.acknowledged, $0.unanswered) } }
}
