import Foundation
import IngestAPI
import Testing

@testable import Fleet

/// The serial-path devices' processes, with a stand-in for the `stedi` program: a shell script
/// that answers `device simulate` with a path and `capture` with a JSON summary.
@Suite struct SerialFleetDevicesTests {
  static let key = try! TokenKey(bytes: Array(repeating: 5, count: 32))

  /// Writes an executable script that records each call's arguments in `log` and runs `body`.
  static func standIn(_ body: String) throws -> (program: URL, log: String, folder: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("serial-fleet-\(UUID())").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let program = "\(folder)/stedi"
    let log = "\(folder)/calls"
    try "#!/bin/sh\necho \"$*\" >> \(log)\n\(body)\n".write(toFile: program, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: program)
    return (URL(fileURLWithPath: program), log, folder)
  }

  static func plan(serialDevices: Int) throws -> FleetPlan {
    let scenario = try Scenario.load(yaml: "name: tiny\ncustomers: 3\nserialDevices: \(serialDevices)\n")
    return FleetPlan(scenario: scenario, runID: "0000abcd")
  }

  @Test func everySerialPathDeviceRunsASimulatorAndACaptureWhoseAcknowledgementsAddUp() async throws {
    let standIn = try Self.standIn(
      """
      case "$1" in
        device) echo /dev/pts/fleet; exec sleep 3 ;;
        capture) echo '{"landed":7,"port":"/dev/pts/fleet","serialNumber":null}' ;;
      esac
      """)
    defer { try? FileManager.default.removeItem(atPath: standIn.folder) }
    let plan = try Self.plan(serialDevices: 2)
    let fleet = try SerialFleetDevices.start(
      plan: plan, target: "http://127.0.0.1:1", key: Self.key, executable: standIn.program)
    #expect(fleet.count == 2)
    let result = await fleet.finish()
    #expect(result.acknowledged == 14)
    #expect(result.failures.isEmpty)
    let calls = try String(contentsOfFile: standIn.log, encoding: .utf8).split(separator: "\n")
    let captures = calls.filter { $0.hasPrefix("capture ") }
    #expect(calls.filter { $0.hasPrefix("device simulate --serial ") }.count == 2)
    #expect(captures.count == 2)
    // Each capture carries a device token for one serial-path device, and reads the path its simulator printed.
    let subjects = try captures.map { capture -> String in
      #expect(capture.hasPrefix("capture --port /dev/pts/fleet --ingest http://127.0.0.1:1 --token "))
      #expect(capture.hasSuffix("--json"))
      let words = capture.split(separator: " ")
      let token = String(words[words.firstIndex(of: "--token")! + 1])
      return try AccessToken.verify(token, with: Self.key).subject
    }
    let expected = plan.devices.filter(\.serialPath).map(\.subject)
    #expect(subjects.sorted() == expected.sorted())
    for subject in expected { #expect(calls.contains { $0.contains("device simulate --serial \(subject) ") }) }
  }

  @Test func aCaptureThatFailsIsReportedByItsDevice() async throws {
    let standIn = try Self.standIn(
      """
      case "$1" in
        device) echo /dev/pts/fleet; exec sleep 3 ;;
        capture) exit 2 ;;
      esac
      """)
    defer { try? FileManager.default.removeItem(atPath: standIn.folder) }
    let plan = try Self.plan(serialDevices: 1)
    let fleet = try SerialFleetDevices.start(
      plan: plan, target: "http://127.0.0.1:1", key: Self.key, executable: standIn.program)
    let result = await fleet.finish()
    let subject = plan.devices.first { $0.serialPath }!.subject
    #expect(result.acknowledged == 0)
    #expect(result.failures == ["capture of \(subject) exited 2"])
  }

  @Test func aSimulatorThatPrintsNoPathStopsTheStart() throws {
    let standIn = try Self.standIn("echo 'no device'; exec sleep 3")
    defer { try? FileManager.default.removeItem(atPath: standIn.folder) }
    #expect(throws: ScenarioError.self) {
      _ = try SerialFleetDevices.start(
        plan: try Self.plan(serialDevices: 1), target: "http://127.0.0.1:1", key: Self.key,
        executable: standIn.program)
    }
  }
}
