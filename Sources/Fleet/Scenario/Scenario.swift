import Foundation
import Yams

/// A load test: how many customers and devices, how they send, and what goes wrong.
///
/// Read from YAML (simulators/scenarios/); every field but `name` and `customers` has a default.
public struct Scenario: Sendable, Equatable, Codable {
  /// How devices pace their sending.
  public enum Pacing: String, Sendable, Codable {
    /// Readings are produced at the sample rate on the wall clock, as real devices do.
    case realtime
    /// Each device sends its readings back to back, as fast as the service answers.
    case asap
  }

  public var name: String
  /// The same seed gives the same customers, devices, readings and faults.
  public var seed: UInt64 = 1
  /// Customers, each with one Step Trainer and (with `phones`) one phone.
  public var customers: Int
  /// The share of customers who consent to research.
  public var consentShare: Double = 0.7
  /// Whether each customer's phone also sends accelerometer readings.
  public var phones: Bool = true
  /// Step Trainers that run the real serial path (simulated device on a pseudo-terminal, read
  /// by `stedi capture --ingest`) instead of posting directly.
  public var serialDevices: Int = 0
  public var stepTrainerHz: Double = 10
  public var phoneHz: Double = 10
  /// Exercise sessions last about this long (the motion model restarts after each).
  public var sessionSeconds: Double = 60
  /// How long the fleet runs (realtime) or how many seconds of readings each device sends (asap).
  public var durationSeconds: Double = 10
  /// Devices start evenly spread over this many seconds.
  public var rampUpSeconds: Double = 0
  public var pacing: Pacing = .realtime
  /// Readings per request.
  public var batchReadings: Int = 10
  /// How long a device waits for an answer before it counts a timeout and retries.
  public var requestTimeoutSeconds: Double = 10
  public var faults: Faults = Faults()

  /// Things that go wrong, each as a share (0...1) of requests or of devices.
  public struct Faults: Sendable, Equatable, Codable {
    /// Share of requests whose connection fails before an answer (the device retries).
    public var networkErrors: Double = 0
    /// Share of requests sent with a deadline too short to be answered (the device retries; the
    /// service may have accepted the first attempt: those readings may land twice).
    public var timeouts: Double = 0
    /// Share of devices that reboot once: they go quiet, lose their unsent readings' batch
    /// sequence, and start again with a new session.
    public var reboots: Double = 0
    /// Clock drift of devices, parts per million (each device drifts by up to this, either way).
    public var clockDriftPpm: Double = 0
    /// Share of devices whose clock jumps once by `clockJumpSeconds`.
    public var clockJumps: Double = 0
    public var clockJumpSeconds: Double = 30
    /// Share of requests delivered twice (a retry after a lost answer).
    public var duplicateDeliveries: Double = 0
    /// Share of devices that go offline for `offlineSeconds` and then send their backlog at once.
    public var burstsAfterReconnect: Double = 0
    public var offlineSeconds: Double = 3
    /// Share of Step Trainers that send one batch under another serial number (must be refused).
    public var wrongSerial: Double = 0

    /// No faults.
    public init() {}
  }

  /// A scenario with defaults for everything but its name and size.
  public init(name: String, customers: Int) {
    self.name = name
    self.customers = customers
  }

  /// Reads a scenario from YAML, with a message naming the field that is wrong.
  public static func load(yaml text: String) throws -> Scenario {
    let scenario: Scenario
    do {
      scenario = try YAMLDecoder().decode(Scenario.self, from: text)
    } catch let error as ScenarioError {
      throw error
    } catch let DecodingError.keyNotFound(key, _) {
      throw ScenarioError("missing field '\(key.stringValue)'")
    } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
      throw ScenarioError(
        "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)")
    } catch let DecodingError.dataCorrupted(context) where context.underlyingError is ScenarioError {
      // Yams wraps what a decoder throws; the scenario's own message says it best.
      throw context.underlyingError as! ScenarioError
    } catch let DecodingError.dataCorrupted(context) {
      throw ScenarioError(
        "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)")
    } catch {
      throw ScenarioError("not a scenario: \(error)")
    }
    try scenario.validate()
    return scenario
  }

  /// Reads a scenario file.
  public static func load(file path: String) throws -> Scenario {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ScenarioError("cannot read the scenario file \(path)")
    }
    do {
      return try load(yaml: String(decoding: data, as: UTF8.self))
    } catch let error as ScenarioError {
      throw ScenarioError("\(path): \(error.message)")
    }
  }

  /// Checks that every value makes sense.
  public func validate() throws {
    guard customers > 0 else { throw ScenarioError("customers must be at least 1") }
    guard (0...1).contains(consentShare) else { throw ScenarioError("consentShare must be between 0 and 1") }
    guard serialDevices >= 0, serialDevices <= customers else {
      throw ScenarioError("serialDevices must be between 0 and customers")
    }
    for (name, rate) in [("stepTrainerHz", stepTrainerHz), ("phoneHz", phoneHz)] where !(rate > 0 && rate <= 1000) {
      throw ScenarioError("\(name) must be above 0 and at most 1000")
    }
    guard durationSeconds > 0, sessionSeconds > 0, rampUpSeconds >= 0, requestTimeoutSeconds > 0 else {
      throw ScenarioError("durationSeconds, sessionSeconds and requestTimeoutSeconds must be positive")
    }
    guard batchReadings >= 1 else { throw ScenarioError("batchReadings must be at least 1") }
    let shares = [
      ("networkErrors", faults.networkErrors), ("timeouts", faults.timeouts), ("reboots", faults.reboots),
      ("clockJumps", faults.clockJumps), ("duplicateDeliveries", faults.duplicateDeliveries),
      ("burstsAfterReconnect", faults.burstsAfterReconnect), ("wrongSerial", faults.wrongSerial),
    ]
    for (name, share) in shares where !(0...1).contains(share) {
      throw ScenarioError("faults.\(name) must be between 0 and 1")
    }
  }
}

/// A scenario file that cannot be used, and why.
public struct ScenarioError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
