import Foundation
import Testing

/// The built `stedi` executable, run as a real process the way a user runs it.
struct StediProcess {
  /// Where SwiftPM put the executable: beside the test bundle in the same build folder.
  static let executable: URL = {
    if let override = ProcessInfo.processInfo.environment["STEDI_EXECUTABLE"] {
      return URL(fileURLWithPath: override)
    }
    var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("stedi").path), folder.path != "/" {
      folder.deleteLastPathComponent()
    }
    return folder.appendingPathComponent("stedi")
  }()

  struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// Runs `stedi` with `arguments` to completion.
  @discardableResult
  static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
    let process = try start(arguments, environment: environment)
    let stdout = (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
    let stderr = (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Outcome(
      status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
      stderr: String(decoding: stderr, as: UTF8.self))
  }

  /// Starts `stedi` and returns at once.
  static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Process {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = Pipe()
    process.standardError = Pipe()
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// Generates the test lake with every flaw of the real data (80 customers, 2 days, seed 11) at
  /// `lake`; throws with stedi's stderr when it fails (callable from any thread).
  static func generateLakeWithEveryFlaw(at lake: String) throws {
    let run = try run([
      "generate", "--lake", lake, "--customers", "80", "--days", "2", "--session-seconds", "12", "--seed", "11",
    ])
    guard run.status == 0 else { throw Failure(description: "stedi generate failed: \(run.stderr)") }
  }
}
