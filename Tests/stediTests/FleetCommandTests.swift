import Fleet
import Foundation
import StediTestSupport
import Testing

/// `stedi fleet run` against a real `stedi serve`, reconciled against the lake it writes.
@Suite(.serialized) struct FleetCommandTests {
  static let scenarios = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("simulators/scenarios").path

  /// Runs `scenario` against a fresh service and lake; returns the exit status and the JSON report.
  static func run(_ scenario: String, extra: [String] = []) async throws -> (Int32, [String: Any], String) {
    let outcome = try await run(file: "\(scenarios)/\(scenario).yaml", extra: extra)
    return (outcome.status, outcome.report, outcome.page)
  }

  struct Outcome {
    var status: Int32
    var report: [String: Any]
    var page: String
    var stdout: String
    var landing: [String]
  }

  static func run(file: String, extra: [String] = []) async throws -> Outcome {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = "\(scratch.path)/lake"
    let environment = ["STEDI_TOKEN_KEY": String(repeating: "fleet-test-key-", count: 3)]
    let service = try await ServeProcess.start(
      ["--lake", lake, "--create", "--wal", "\(scratch.path)/wal", "--batch-max-age", "0.5"], environment: environment)
    let report = "\(scratch.path)/report.json"
    let html = "\(scratch.path)/report.html"
    let fleet = try StediProcess.run(
      [
        "fleet", "run", "--scenario", file, "--target", service.baseURL, "--lake", lake,
        "--report-json", report, "--report-html", html, "--reconcile-timeout", "20", "--quiet",
      ] + extra, environment: environment)
    let (status, stderr) = await service.stop()
    #expect(status == 0, "\(stderr)")
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any],
      "\(fleet.stdout)\(fleet.stderr)")
    let page = (try? String(contentsOfFile: html, encoding: .utf8)) ?? ""
    return Outcome(
      status: fleet.status, report: json, page: page, stdout: fleet.stdout, landing: landingLines(lake, "step_trainer"))
  }

  @Test func aMixedFleetRunsSomeStepTrainersThroughTheSerialPath() async throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let file = "\(scratch.path)/mixed.yaml"
    try "name: mixed\nseed: 5\ncustomers: 6\nserialDevices: 2\ndurationSeconds: 4\nbatchReadings: 10\n".write(
      toFile: file, atomically: true, encoding: .utf8)
    let outcome = try await Self.run(file: file, extra: ["--run-id", "0123abcd"])
    #expect(outcome.status == 0, "\(outcome.stdout)")
    #expect(outcome.stdout.contains("serial path     2 Step Trainers"), "\(outcome.stdout)")
    // The first two customers' Step Trainers went through pseudo-terminals and stedi capture.
    for serial in ["0123abcd-f1ee-4000-8000-000000000000", "0123abcd-f1ee-4000-8000-000000000001"] {
      #expect(outcome.landing.filter { $0.contains(serial) }.count >= 20, "\(serial)")
    }
    let reconciliation = try #require(outcome.report["reconciliation"] as? [String: Any])
    #expect(reconciliation["balanced"] as? Bool == true)
    let readings = try #require(outcome.report["readings"] as? [String: Any])
    #expect((reconciliation["readingsAcknowledged"] as! Int) > (readings["acknowledged"] as! Int))
  }

  @Test func theSmokeScenarioReconcilesWithTheLake() async throws {
    let (status, report, page) = try await Self.run("smoke")
    #expect(status == 0)
    let readings = try #require(report["readings"] as? [String: Any])
    // 20 customers, a Step Trainer and a phone each, 3 s at 10 Hz.
    #expect(readings["acknowledged"] as? Int == 1200)
    #expect(readings["sent"] as? Int == 1200)
    let reconciliation = try #require(report["reconciliation"] as? [String: Any])
    #expect(reconciliation["readingsLanded"] as? Int == 1200)
    #expect(reconciliation["balanced"] as? Bool == true)
    let latency = try #require(report["latency"] as? [String: Any])
    #expect((latency["p99"] as? Double ?? 0) > 0)
    #expect(page.components(separatedBy: "<svg").count == 3)
    #expect(!page.contains("https://"))
  }

  @Test func everyFaultKindShowsInItsCounterAndTheLakeStillReconciles() async throws {
    let (status, report, _) = try await Self.run("faults", extra: ["--run-id", "0000fa17"])
    #expect(status == 0)
    // Planned faults happen exactly as planned: the plan is the same under the same seed and run id.
    let plan = FleetPlan(scenario: try Scenario.load(file: "\(Self.scenarios)/faults.yaml"), runID: "0000fa17")
    let faults = try #require(report["faults"] as? [String: Int])
    #expect(faults["reboot"] == plan.devices.filter { $0.rebootAt != nil }.count)
    #expect(faults["clock_jump"] == plan.devices.filter { $0.clockJumpAt != nil }.count)
    #expect(faults["offline"] == plan.devices.filter { $0.offlineAt != nil }.count)
    let wrongSerial = plan.devices.filter { $0.wrongSerialAt != nil }.count
    #expect(wrongSerial > 0 && faults["wrong_serial"] == wrongSerial)
    for kind in ["duplicate", "network_error", "timeout"] { #expect((faults[kind] ?? 0) > 0, "\(kind)") }
    let errors = try #require(report["errors"] as? [String: Int])
    #expect(errors["network"]! > 0, "network errors were injected")
    #expect(errors["timeout"]! > 0, "timeouts were injected")
    let readings = try #require(report["readings"] as? [String: Any])
    let refused = try #require(readings["refusedByReason"] as? [String: Int])
    // Step Trainers that sent another serial's readings were refused, and only those.
    #expect(refused["wrong_serial"] == wrongSerial * 10, "whole batches of 10, one per planned device")
    #expect(errors["network"]! >= faults["network_error"]!)
    let reconciliation = try #require(report["reconciliation"] as? [String: Any])
    #expect(reconciliation["balanced"] as? Bool == true)
    #expect(reconciliation["missing"] as? Int == 0)
    // Duplicate deliveries and accepted-but-timed-out requests land more than once: never fewer.
    let landed = try #require(reconciliation["readingsLanded"] as? Int)
    #expect(landed >= (readings["acknowledged"] as? Int ?? .max))
  }
}
