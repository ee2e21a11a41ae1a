import Foundation
import StediTestSupport
import Testing

/// A run killed with SIGKILL at any instant leaves every table as it was or complete; the next run repairs.
/// For Parquet tables "the table" is what a reader sees: the files its Delta log's current version names.
@Suite struct CrashSafetyTests {
  @Test(arguments: ["ndjson", "parquet"])
  func killedRunsLeaveEveryTableOldOrNewAndTheNextRunRepairs(format: String) throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    try StediProcess.run(["lake", "sample", "--lake", lake, "--customers", "300", "--readings", "200", "--seed", "5"])
    #expect(try StediProcess.run(["pipeline", "run", "--lake", lake, "--format", format]).status == 0)
    let before = TemporaryLake.currentTables(lake)

    // New landing data arrives: a second batch of customers and readings.
    let extra = scratch.path + "/extra"
    try StediProcess.run(["lake", "sample", "--lake", extra, "--customers", "300", "--readings", "200", "--seed", "6"])
    for source in ["customer", "accelerometer", "step_trainer"] {
      try FileManager.default.copyItem(atPath: "\(extra)/\(source)/landing", toPath: "\(lake)/\(source)/landing/batch2")
    }
    // What a complete run over all files publishes, computed on a copy (same pseudonym key).
    let reference = scratch.path + "/reference"
    try FileManager.default.copyItem(atPath: lake, toPath: reference)
    let started = Date()
    #expect(try StediProcess.run(["pipeline", "run", "--lake", reference, "--format", format]).status == 0)
    let fullRun = Date().timeIntervalSince(started)
    let after = TemporaryLake.currentTables(reference)
    #expect(before != after)

    var random = SystemRandomNumberGenerator()
    for attempt in 0..<10 {
      let process = try StediProcess.start(["pipeline", "run", "--lake", lake, "--format", format])
      // Spread the kills over the whole run, publishing phase included.
      let delay = fullRun * (Double(attempt) + Double.random(in: 0..<1, using: &random)) / 10
      Thread.sleep(forTimeInterval: delay)
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      let now = TemporaryLake.currentTables(lake)
      for (path, contents) in now where !path.split(separator: "/").last!.hasPrefix(".") {
        #expect(
          contents == before[path] || contents == after[path],
          "attempt \(attempt) after \(delay)s: \(path) is neither the old nor the new table")
      }
      for path in before.keys {
        #expect(now[path] != nil, "attempt \(attempt): \(path) vanished")
      }
    }

    #expect(try StediProcess.run(["pipeline", "run", "--lake", lake, "--format", format]).status == 0)
    #expect(TemporaryLake.currentTables(lake) == after, "the repairing run did not give what a clean run gives")
  }
}
