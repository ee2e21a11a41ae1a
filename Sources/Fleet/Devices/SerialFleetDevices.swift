import Foundation
import IngestAPI

/// The fleet's Step Trainers that run the real serial path: each a simulated device on a
/// pseudo-terminal (`stedi device simulate`) read by `stedi capture --ingest`, so the whole
/// chain (protocol, host session, libserialport or termios, the capture sender) is under load.
public struct SerialFleetDevices {
  private struct Member {
    var device: FleetPlan.Device
    var simulator: Process
    var capture: Process
    var output: Pipe
  }

  /// The part of `stedi capture --json`'s summary the fleet reads.
  private struct CaptureSummary: Decodable {
    let landed: Int
  }

  /// The running program (the serial path is the one a user runs, not a library shortcut).
  public static var thisExecutable: URL { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath() }

  private let executable: URL
  private var members: [Member] = []

  private init(executable: URL) { self.executable = executable }

  /// Starts a simulated device and a capture, both with the `stedi` program at `executable`, for
  /// every serial-path device of `plan`; the captures send to the ingest service at `target`.
  public static func start(
    plan: FleetPlan, target: String, key: TokenKey, executable: URL = thisExecutable
  ) throws -> SerialFleetDevices {
    var fleet = SerialFleetDevices(executable: executable)
    let scenario = plan.scenario
    let rate = String(format: "%.2f", min(16, max(1, scenario.stepTrainerHz)))
    for device in plan.devices where device.serialPath {
      let simulator = try fleet.launch([
        "device", "simulate", "--serial", device.subject, "--seed", String(device.seed % 1_000_000_000),
        "--rate", rate, "--duration", String(Int(scenario.durationSeconds + 30)),
      ])
      let path = try firstLine(of: simulator)
      let token = AccessToken.mint(.device, device.subject, validFor: 86_400, key: key)
      let output = Pipe()
      let capture = try fleet.launch(
        [
          "capture", "--port", path, "--ingest", target, "--token", token, "--duration",
          String(scenario.durationSeconds), "--batch-records", String(scenario.batchReadings), "--rate", rate, "--json",
        ], output: output)
      fleet.members.append(Member(device: device, simulator: simulator, capture: capture, output: output))
    }
    return fleet
  }

  /// How many serial-path devices run.
  public var count: Int { members.count }

  /// Waits for every capture to finish and stops the simulated devices; returns the readings the
  /// service acknowledged to the captures, and the captures that failed.
  public func finish() async -> (acknowledged: Int, failures: [String]) {
    var acknowledged = 0
    var failures: [String] = []
    for member in members {
      let data = await Self.offThePool {
        let data = member.output.fileHandleForReading.readDataToEndOfFile()
        member.capture.waitUntilExit()
        if member.simulator.isRunning { member.simulator.terminate() }
        member.simulator.waitUntilExit()
        return data
      }
      let summary = try? JSONDecoder().decode(CaptureSummary.self, from: data)
      if member.capture.terminationStatus == 0, let landed = summary?.landed {
        acknowledged += landed
      } else {
        failures.append("capture of \(member.device.subject) exited \(member.capture.terminationStatus)")
      }
    }
    return (acknowledged, failures)
  }

  private func launch(_ arguments: [String], output: Pipe = Pipe()) throws -> Process {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
  }

  /// The first line a process prints (the simulated device's pseudo-terminal path).
  /// Runs blocking waits (a pipe to its end, a process to its exit) on a thread of their own:
  /// on the cooperative pool (two threads on a 2-core machine) they stalled every other task of
  /// the process for as long as the captures ran, a service in the same process included.
  private static func offThePool<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { continuation in
      Thread.detachNewThread { continuation.resume(returning: body()) }
    }
  }

  private static func firstLine(of process: Process) throws -> String {
    let handle = (process.standardOutput as! Pipe).fileHandleForReading
    var line = Data()
    while let byte = try handle.read(upToCount: 1), !byte.isEmpty, byte != Data([0x0A]) { line.append(byte) }
    let path = String(decoding: line, as: UTF8.self)
    guard path.hasPrefix("/") else {
      process.terminate()
      throw ScenarioError("a simulated serial device did not start")
    }
    return path
  }
}
