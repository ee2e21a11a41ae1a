import Foundation
import SeededRandom

/// Every customer and device of a scenario, with its identifiers, seed and faults: the same
/// scenario, seed and run id give the same plan on every machine, so shards agree on it.
public struct FleetPlan: Sendable {
  /// A simulated customer.
  public struct Customer: Sendable, Equatable {
    public var index: Int
    public var email: String
    public var serialNumber: String
    public var consents: Bool
    /// Seed of the customer's body and exercise (their Step Trainer and phone share it).
    public var seed: UInt64
  }

  /// What a device sends.
  public enum DeviceKind: String, Sendable, Codable {
    case stepTrainer = "step_trainer"
    case phone
  }

  /// A simulated Step Trainer or phone, with the faults it will suffer.
  public struct Device: Sendable, Equatable {
    public var index: Int
    public var kind: DeviceKind
    public var customer: Int
    /// The serial number (Step Trainer) or email (phone) its token is for.
    public var subject: String
    public var seed: UInt64
    /// Whether it runs the real serial path (`stedi capture --ingest`) instead of posting itself.
    public var serialPath: Bool
    /// When (share of the run) it reboots, if it does.
    public var rebootAt: Double?
    /// Its clock's drift in parts per million.
    public var clockDriftPpm: Double
    /// When (share of the run) its clock jumps, if it does.
    public var clockJumpAt: Double?
    /// When (share of the run) it goes offline, if it does; it sends its backlog on reconnecting.
    public var offlineAt: Double?
    /// When (share of the run) a Step Trainer sends one batch under another serial number.
    public var wrongSerialAt: Double?
  }

  public let scenario: Scenario
  /// Distinguishes this run's customers and devices from every other run's in the same lake.
  public let runID: String
  public let customers: [Customer]
  public let devices: [Device]

  /// The plan of `scenario` for the run `runID`.
  public init(scenario: Scenario, runID: String) {
    precondition(Self.isValid(runID: runID), "a run id is 8 lower-case hex digits")
    self.scenario = scenario
    self.runID = runID
    var random = SplitMix64(seed: scenario.seed)
    var customers: [Customer] = []
    var devices: [Device] = []
    let faults = scenario.faults
    func chance(_ share: Double, _ random: inout SplitMix64) -> Double? {
      let roll = Double(random.next() % 1_000_000) / 1_000_000
      let at = 0.2 + 0.6 * Double(random.next() % 1_000_000) / 1_000_000
      return roll < share ? at : nil
    }
    for index in 0..<scenario.customers {
      let customer = Customer(
        index: index, email: "fleet.\(runID).\(index)@fleet.stedi.test", serialNumber: Self.serialNumber(runID, index),
        consents: Double(random.next() % 1_000_000) / 1_000_000 < scenario.consentShare, seed: random.next())
      customers.append(customer)
      var kinds: [(DeviceKind, String)] = [(.stepTrainer, customer.serialNumber)]
      if scenario.phones { kinds.append((.phone, customer.email)) }
      for (kind, subject) in kinds {
        let drift = faults.clockDriftPpm * (2 * Double(random.next() % 1_000_000) / 1_000_000 - 1)
        devices.append(
          Device(
            index: devices.count, kind: kind, customer: index, subject: subject, seed: random.next(),
            serialPath: kind == .stepTrainer && index < scenario.serialDevices,
            rebootAt: chance(faults.reboots, &random), clockDriftPpm: drift,
            clockJumpAt: chance(faults.clockJumps, &random), offlineAt: chance(faults.burstsAfterReconnect, &random),
            wrongSerialAt: kind == .stepTrainer && scenario.customers > 1 ? chance(faults.wrongSerial, &random) : nil))
      }
    }
    self.customers = customers
    self.devices = devices
  }

  private init(scenario: Scenario, runID: String, customers: [Customer], devices: [Device]) {
    self.scenario = scenario
    self.runID = runID
    self.customers = customers
    self.devices = devices
  }

  /// The part of the fleet shard `index` (1-based) of `count` runs: whole customers (with their
  /// devices) by index modulo `count`, so the shards together run every device exactly once.
  public func shard(_ index: Int, of count: Int) -> FleetPlan {
    precondition(count >= 1 && (1...count).contains(index))
    let mine = { (customer: Int) in customer % count == index - 1 }
    return FleetPlan(
      scenario: scenario, runID: runID, customers: customers.filter { mine($0.index) },
      devices: devices.filter { mine($0.customer) })
  }

  /// The serial number of another customer, for a device that sends someone else's readings.
  func otherSerial(than customer: Int) -> String {
    Self.serialNumber(runID, (customer + 1) % scenario.customers)
  }

  /// A shard given as `i/n` (1-based, 1 <= i <= n), or nil if the text is not one.
  public static func shard(parsing text: String) -> (index: Int, count: Int)? {
    let parts = text.split(separator: "/").compactMap { Int($0) }
    guard parts.count == 2, parts[1] >= 1, (1...parts[1]).contains(parts[0]) else { return nil }
    return (parts[0], parts[1])
  }

  /// Whether `runID` can tag a run: 8 lower-case hex digits, the first group of its serial numbers.
  public static func isValid(runID: String) -> Bool {
    runID.count == 8 && runID.allSatisfy { $0.isHexDigit && !$0.isUppercase }
  }

  /// A fleet serial number: a UUID (as Step Trainers have, and as the serial path requires) whose
  /// first group is the run id and whose second is `f1ee`, so a run's readings can be told apart.
  static func serialNumber(_ runID: String, _ index: Int) -> String {
    let digits = String(index, radix: 16)
    return "\(runID)-f1ee-4000-8000-\(String(repeating: "0", count: max(0, 12 - digits.count)))\(digits)"
  }

  /// The text that every landing line of this run's Step Trainers contains.
  static func serialMarker(_ runID: String) -> String { "\"\(runID)-f1ee-" }
}
