import ArgumentParser
import Foundation
import Lakehouse
import StepTrainerHost

/// `stedi replay`: turns a raw capture (`stedi capture --raw`) into the landing records a live
/// capture writes, so a field recording can be analysed later.
struct ReplayCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Decode a raw capture into the lake's step_trainer landing zone.",
    discussion: """
      Runs the same session logic as `stedi capture` over the recorded bytes, at their recorded
      arrival times, so device time maps to the same wall-clock times. Landing file names depend
      only on the readings, so replaying a capture twice rewrites the same files.
      """)

  @Argument(help: "The raw capture file.")
  var file: String

  @Option(help: "The lake folder; readings go to <lake>/step_trainer/landing/.")
  var lake: String

  @Option(help: "Commit a landing file after this many readings.")
  var batchRecords = 1000

  @Option(help: "Commit a landing file when its first reading is this many seconds older than the newest.")
  var batchSeconds = 10.0

  func run() throws {
    let capture: (entries: [RawCapture.Entry], truncatedTail: Bool)
    do {
      capture = try RawCapture.read(path: file)
    } catch {
      throw CommandFailure.report("cannot read the raw capture \(file): \(error)")
    }
    let writer = LandingCaptureWriter(lake: lake, maxRecords: batchRecords, maxAgeMs: Int64(batchSeconds * 1000))
    let summary = try CommandFailure.reporting {
      let summary = try Replay.run(capture.entries) { reading, time in
        try writer.flushIfDue(now: time)
        try writer.add(reading, now: time)
      }
      try writer.flush()
      return summary
    }
    let counters = summary.counters
    print(
      """
      replayed \(file): \(summary.sessions) sessions, devices \(summary.devices.sorted().joined(separator: ", "))
        readings      \(counters.readings) (ok \(counters.ok), out of range \(counters.outOfRange), no echo \(counters.noEcho), sensor fault \(counters.sensorFault))
        landed        \(writer.recordsWritten) readings in \(writer.filesWritten) files under \(lake)/step_trainer/landing
        lost          \(counters.lost), duplicates dropped \(counters.duplicates)
        frames        \(counters.decoder.messages) decoded, \(counters.decoder.framesRejected) rejected, \(counters.decoder.bytesDiscarded) bytes discarded
      """)
    if capture.truncatedTail {
      FileHandle.standardError.write(
        Data("stedi: warning: the capture's last line was cut off (the capture was killed); it was skipped\n".utf8))
    }
  }
}
