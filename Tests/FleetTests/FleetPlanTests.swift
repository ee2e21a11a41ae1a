import Foundation
import Testing

@testable import Fleet

/// Scenarios from YAML, and the plan they give: deterministic under a seed, split by shards
/// without gaps or overlaps.
@Suite struct FleetPlanTests {
  static let scenariosFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("simulators/scenarios").path

  @Test(arguments: ["smoke", "10k-devices", "burst", "faults"])
  func theShippedScenariosLoad(name: String) throws {
    let scenario = try Scenario.load(file: "\(Self.scenariosFolder)/\(name).yaml")
    #expect(scenario.name == name)
  }

  @Test func defaultsFillWhatAFileLeavesOut() throws {
    let scenario = try Scenario.load(yaml: "name: tiny\ncustomers: 3\nfaults:\n  timeouts: 0.5\n")
    #expect(scenario.customers == 3)
    #expect(scenario.batchReadings == 10)
    #expect(scenario.pacing == .realtime)
    #expect(scenario.faults.timeouts == 0.5)
    #expect(scenario.faults.reboots == 0)
  }

  @Test(arguments: [
    ("customers: 3\n", "name"),
    ("name: x\ncustomers: 3\nfautls:\n  timeouts: 0.1\n", "unknown field 'fautls'"),
    ("name: x\ncustomers: 3\nfaults:\n  timeout: 0.1\n", "unknown field 'faults.timeout'"),
    ("name: x\ncustomers: 0\n", "customers must be at least 1"),
    ("name: x\ncustomers: 3\nfaults:\n  reboots: 2\n", "faults.reboots must be between 0 and 1"),
    ("name: x\ncustomers: three\n", "customers"),
    ("name: x\ncustomers: 3\npacing: fast\n", "pacing"),
  ])
  func badScenariosSayWhatIsWrong(yaml: String, expected: String) {
    #expect {
      _ = try Scenario.load(yaml: yaml)
    } throws: { error in
      "\(error)".contains(expected)
    }
  }

  @Test func thePlanIsTheSameUnderTheSameSeed() throws {
    var scenario = try Scenario.load(file: "\(Self.scenariosFolder)/faults.yaml")
    let first = FleetPlan(scenario: scenario, runID: "0000abcd")
    let second = FleetPlan(scenario: scenario, runID: "0000abcd")
    #expect(first.customers == second.customers)
    #expect(first.devices == second.devices)
    // Every fault kind is planned for some device, at the shares asked for (roughly).
    #expect(first.devices.contains { $0.rebootAt != nil })
    #expect(first.devices.contains { $0.clockJumpAt != nil })
    #expect(first.devices.contains { $0.offlineAt != nil })
    #expect(first.devices.filter { $0.wrongSerialAt != nil }.allSatisfy { $0.kind == .stepTrainer })
    let wrong = first.devices.filter { $0.wrongSerialAt != nil }.count
    #expect((3...20).contains(wrong), "\(wrong) of 100 Step Trainers for a share of 0.1")
    scenario.seed += 1
    #expect(FleetPlan(scenario: scenario, runID: "0000abcd").devices != first.devices)
  }

  @Test func theSameSeedGivesTheSameReadings() {
    var a = MotionSignal(seed: 42, sessionSeconds: 30)
    var b = MotionSignal(seed: 42, sessionSeconds: 30)
    var c = MotionSignal(seed: 43, sessionSeconds: 30)
    let times = stride(from: 0.0, to: 70, by: 0.1)
    let first = times.map { a.distance(at: $0) }
    #expect(first == times.map { b.distance(at: $0) })
    #expect(first != times.map { c.distance(at: $0) })
    // The motion model's steps show: the foot comes closer and goes back.
    #expect(first.max()! - first.min()! > 10)
  }

  @Test(arguments: [1, 2, 3, 7])
  func shardsCoverEveryDeviceExactlyOnce(count: Int) throws {
    let plan = FleetPlan(scenario: try Scenario.load(yaml: "name: s\ncustomers: 50\n"), runID: "0000beef")
    var seen: [Int] = []
    var customers: [Int] = []
    for index in 1...count {
      let shard = plan.shard(index, of: count)
      seen += shard.devices.map(\.index)
      customers += shard.customers.map(\.index)
      // A customer's devices stay with the customer's shard.
      let mine = Set(shard.customers.map(\.index))
      #expect(shard.devices.allSatisfy { mine.contains($0.customer) })
    }
    #expect(seen.sorted() == plan.devices.map(\.index))
    #expect(customers.sorted() == Array(0..<50))
  }
}
