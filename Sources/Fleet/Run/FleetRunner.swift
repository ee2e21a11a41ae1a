import Foundation
import IngestAPI
import Lakehouse

/// Runs a plan's devices against a target: registers the customers, then starts every device
/// (spread over the ramp-up) and waits for all of them.
public struct FleetRunner: Sendable {
  public let plan: FleetPlan
  public let target: FleetTarget
  public let recorder: FleetRecorder

  /// A runner of `plan` against `target`, measuring into `recorder`.
  public init(plan: FleetPlan, target: FleetTarget, recorder: FleetRecorder) {
    self.plan = plan
    self.target = target
    self.recorder = recorder
  }

  /// Registers the plan's customers through the customer endpoint with an admin token.
  public func registerCustomers(epochStart: Int64) async throws {
    let admin = target.token(.admin, "fleet")
    let day: Int64 = 86_400_000
    for start in stride(from: 0, to: plan.customers.count, by: 1000) {
      var buffer = NDJSONBuffer(spaced: true)
      for customer in plan.customers[start..<min(start + 1000, plan.customers.count)] {
        CustomerRecord(
          customerName: "Fleet Customer \(customer.index)", email: customer.email,
          phone: "555\(String(1_000_000 + customer.index % 9_000_000))", birthDay: "1990-01-01",
          serialNumber: customer.serialNumber, registrationDate: epochStart - 2 * day,
          lastUpdateDate: epochStart - 2 * day,
          shareWithResearchAsOfDate: customer.consents ? epochStart - day : nil
        ).render(into: &buffer)
      }
      let answer = try await target.ingest.post(.customer, token: admin, ndjson: buffer.bytes, timeout: .seconds(30))
      guard answer.isAccepted else {
        throw ScenarioError(
          "the service refused the fleet's customers (HTTP \(answer.status)"
            + "\(answer.rejection.map { ": \($0.reason)" } ?? ""))")
      }
    }
  }

  /// Runs every device that posts by itself (serial-path devices are the caller's) and returns their totals.
  public func run(epochStart: Int64) async -> [FleetPlan.DeviceKind: DeviceTotals] {
    let start = ContinuousClock.now
    let devices = plan.devices.filter { !$0.serialPath }
    let ramp = plan.scenario.pacing == .realtime ? plan.scenario.rampUpSeconds : 0
    return await withTaskGroup(of: (FleetPlan.DeviceKind, DeviceTotals).self) { group in
      for (position, device) in devices.enumerated() {
        let offset = devices.count > 1 ? ramp * Double(position) / Double(devices.count - 1) : 0
        let deviceStart = start + .milliseconds(Int64(offset * 1000))
        let deviceEpoch = epochStart + Int64(offset * 1000)
        group.addTask { [plan, target, recorder] in
          if plan.scenario.pacing == .realtime { try? await Task.sleep(until: deviceStart, clock: .continuous) }
          var simulated = SimulatedDevice(device: device, plan: plan, target: target, recorder: recorder)
          return (device.kind, await simulated.run(start: deviceStart, epochStart: deviceEpoch))
        }
      }
      var totals: [FleetPlan.DeviceKind: DeviceTotals] = [:]
      for await (kind, deviceTotals) in group { totals[kind, default: DeviceTotals()].add(deviceTotals) }
      return totals
    }
  }
}
