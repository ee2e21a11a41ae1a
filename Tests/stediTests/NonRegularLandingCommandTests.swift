import Dispatch
import Foundation
import StediTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A FIFO named `*.json` in landing, as a user meets it: `stedi pipeline run` finishes and says
/// so, the lake's lock goes with it, and `lake erase` and `lake audit` still work.
@Suite struct NonRegularLandingCommandTests {
  /// Runs `stedi` and kills it if it is still running after `seconds` (a hang fails the test
  /// instead of never ending it).
  static func run(_ arguments: [String], within seconds: Double) throws -> (StediProcess.Outcome, timedOut: Bool) {
    let process = try StediProcess.start(arguments)
    // Both pipes are drained meanwhile, so a chatty process never blocks on a full pipe.
    let output = PipeContents()
    let drained = DispatchGroup()
    for (pipe, isError) in [(process.standardOutput as! Pipe, false), (process.standardError as! Pipe, true)] {
      drained.enter()
      DispatchQueue.global().async {
        output.store(pipe.fileHandleForReading.readDataToEndOfFile(), isError: isError)
        drained.leave()
      }
    }
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning, Date() < deadline { usleep(50_000) }
    let timedOut = process.isRunning
    if timedOut { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    drained.wait()
    let (stdout, stderr) = output.texts()
    return (StediProcess.Outcome(status: process.terminationStatus, stdout: stdout, stderr: stderr), timedOut)
  }

  @Test func pipelineRunWithAFIFOInLandingFinishesReportsItAndReleasesTheLake() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    #expect(try StediProcess.run(["lake", "sample", "--lake", lake, "--customers", "30", "--seed", "4"]).status == 0)
    let fifo = "\(lake)/customer/landing/zz-batch.json"
    #expect(mkfifo(fifo, 0o644) == 0)

    // Generous: the run takes a second or two; before the fix it never ended.
    let (run, runTimedOut) = try Self.run(["pipeline", "run", "--lake", lake, "--json"], within: 300)
    #expect(!runTimedOut, "pipeline run blocked on the FIFO")
    #expect(run.status == 0, "\(run.stderr)")
    let funnel = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let reasons = try #require(funnel["quarantineReasons"] as? [String: [String: Int]])
    #expect(reasons["customer"]?["not_a_regular_file"] == 1)
    let lines = try #require(funnel["lines"] as? [String: [String: Int]])
    for (source, counts) in lines {
      #expect(counts["read"] == counts["accepted"]! + counts["quarantined"]! + counts["blank"]!, "\(source)")
    }
    let quarantine = try String(contentsOfFile: lake + "/customer/quarantine/part-00000.json", encoding: .utf8)
    #expect(
      quarantine.contains(
        #""sourceFile":"customer/landing/zz-batch.json","line":0,"reason":"not_a_regular_file""#),
      "\(quarantine)")

    // The human funnel names it too.
    let (text, textTimedOut) = try Self.run(["pipeline", "run", "--lake", lake], within: 300)
    #expect(!textTimedOut && text.status == 0, "\(text.stderr)")
    #expect(text.stdout.contains("not_a_regular_file 1"), "\(text.stdout)")

    // The lock went with the run: audit and erasure run on the same lake, FIFO still there.
    let (audit, auditTimedOut) = try Self.run(["lake", "audit", "--lake", lake], within: 300)
    #expect(!auditTimedOut, "lake audit blocked")
    #expect(audit.status == 0, "\(audit.stdout)\(audit.stderr)")
    let email = "Customer.0@sample.test"
    let (erase, eraseTimedOut) = try Self.run(
      ["lake", "erase", "--lake", lake, "--email", email, "--json"], within: 300)
    #expect(!eraseTimedOut, "lake erase blocked")
    #expect(erase.status == 0, "\(erase.stdout)\(erase.stderr)")
    var status = stat()
    #expect(lstat(fifo, &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO, "the FIFO was left alone")
  }
}

/// What a process wrote to its two pipes, filled from two threads.
private final class PipeContents: @unchecked Sendable {
  private let lock = NSLock()
  private var stdout = Data()
  private var stderr = Data()

  func store(_ data: Data, isError: Bool) {
    lock.withLock {
      if isError { stderr = data } else { stdout = data }
    }
  }

  func texts() -> (String, String) {
    lock.withLock { (String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)) }
  }
}
