import Foundation
import IngestAPI
import Lakehouse
import SeededRandom

/// What one device got through: readings acknowledged, refused on purpose, and sent without
/// knowing whether they arrived (a timeout after the service may have accepted them).
public struct DeviceTotals: Sendable, Equatable {
  public var acknowledged = 0
  public var ambiguous = 0
  public var refused: [String: Int] = [:]
  public var lost = 0

  /// Nothing yet.
  public init() {}

  mutating func add(_ other: DeviceTotals) {
    acknowledged += other.acknowledged
    ambiguous += other.ambiguous
    lost += other.lost
    for (reason, count) in other.refused { refused[reason, default: 0] += count }
  }
}

/// One simulated Step Trainer or phone: produces readings from the motion model at its sample
/// rate, batches them, and sends them with its own token, suffering its planned faults.
struct SimulatedDevice {
  let device: FleetPlan.Device
  let plan: FleetPlan
  let target: FleetTarget
  let recorder: FleetRecorder
  private let token: String
  private var signal: MotionSignal
  private var random: SplitMix64
  private var totals = DeviceTotals()
  private var clockJumped = false

  init(device: FleetPlan.Device, plan: FleetPlan, target: FleetTarget, recorder: FleetRecorder) {
    self.device = device
    self.plan = plan
    self.target = target
    self.recorder = recorder
    token = target.token(device.kind == .stepTrainer ? .device : .user, device.subject)
    signal = MotionSignal(
      seed: plan.customers.first { $0.index == device.customer }?.seed ?? device.seed,
      sessionSeconds: plan.scenario.sessionSeconds)
    random = SplitMix64(seed: device.seed)
  }

  private var scenario: Scenario { plan.scenario }
  private var rate: Double { device.kind == .stepTrainer ? scenario.stepTrainerHz : scenario.phoneHz }
  private var source: LandingSource { device.kind == .stepTrainer ? .stepTrainer : .accelerometer }

  /// Runs the device from `start` (its ramp-up offset included) until the scenario's duration is
  /// over; `epochStart` is the wall-clock time of the run's start in ms.
  mutating func run(start: ContinuousClock.Instant, epochStart: Int64) async -> DeviceTotals {
    let duration = scenario.durationSeconds
    let perBatch = Double(scenario.batchReadings) / rate
    let batches = max(1, Int(duration * rate) / scenario.batchReadings)
    let realtime = scenario.pacing == .realtime
    recorder.deviceConnected()
    defer { recorder.deviceDisconnected() }
    var backlog: [[UInt8]] = []
    var rebooted = false
    var quietUntil = -1.0
    var sentWrongSerial = false
    for batch in 0..<batches {
      let begins = Double(batch) * perBatch
      let due = begins + perBatch
      if realtime {
        try? await Task.sleep(until: start + .milliseconds(Int64(due * 1000)), clock: .continuous)
      }
      if Task.isCancelled { break }
      if let at = device.rebootAt, !rebooted, begins >= at * duration {
        // A reboot: the device is off for two seconds; what it would have sampled never exists.
        rebooted = true
        recorder.injected("reboot")
        quietUntil = begins + 2
        signal.restart(at: quietUntil)
      }
      if begins < quietUntil { continue }
      var body = render(from: begins, count: scenario.batchReadings, epochStart: epochStart)
      if let at = device.wrongSerialAt, !sentWrongSerial, begins >= at * duration {
        sentWrongSerial = true
        recorder.injected("wrong_serial")
        body = render(
          from: begins, count: scenario.batchReadings, epochStart: epochStart,
          serial: plan.otherSerial(than: device.customer))
      }
      if let at = device.offlineAt, begins >= at * duration, begins < at * duration + scenario.faults.offlineSeconds {
        if backlog.isEmpty { recorder.injected("offline") }
        backlog.append(body)
        continue
      }
      // Back online (or never away): the backlog goes first, in one burst.
      for held in backlog { await send(held, readings: scenario.batchReadings) }
      backlog.removeAll()
      await send(body, readings: scenario.batchReadings)
    }
    for held in backlog { await send(held, readings: scenario.batchReadings) }
    return totals
  }

  /// The readings sampled from `seconds` on, as NDJSON, with the device's clock faults applied.
  private mutating func render(from seconds: Double, count: Int, epochStart: Int64, serial: String? = nil) -> [UInt8] {
    var buffer = NDJSONBuffer(capacity: count * 96)
    for index in 0..<count {
      let at = seconds + Double(index) / rate
      var clock = at * (1 + device.clockDriftPpm / 1_000_000)
      if let jump = device.clockJumpAt, at >= jump * scenario.durationSeconds {
        clock += scenario.faults.clockJumpSeconds
        if !clockJumped {
          clockJumped = true
          recorder.injected("clock_jump")
        }
      }
      let time = epochStart + Int64((clock * 1000).rounded())
      switch device.kind {
      case .stepTrainer:
        StepTrainerReading(
          sensorReadingTime: time, serialNumber: serial ?? device.subject, distanceFromObject: signal.distance(at: at)
        ).render(into: &buffer)
      case .phone:
        let (x, y, z) = signal.acceleration(at: at)
        AccelerometerReading.render(user: device.subject, timestamp: time, x: x, y: y, z: z, into: &buffer)
      }
    }
    return buffer.bytes
  }

  /// Sends one batch until it is acknowledged or refused, retrying network errors, timeouts and 503s.
  private mutating func send(_ body: [UInt8], readings: Int) async {
    var delay = Duration.milliseconds(100)
    var mayHaveLanded = false
    var delivered = false
    for _ in 0..<8 {
      if roll() < scenario.faults.networkErrors {
        // The connection drops before the request is out: nothing reached the service.
        recorder.injected("network_error")
        recorder.sent(readings: readings)
        recorder.failed(kind: .network, readings: readings)
        try? await Task.sleep(for: delay)
        delay = min(delay * 2, .seconds(2))
        continue
      }
      let injectTimeout = roll() < scenario.faults.timeouts
      if injectTimeout { recorder.injected("timeout") }
      let timeout: Duration =
        injectTimeout
        ? .microseconds(200) : .milliseconds(Int64(scenario.requestTimeoutSeconds * 1000))
      recorder.sent(readings: readings)
      let started = ContinuousClock.now
      let answer: IngestResponse
      do {
        answer = try await target.ingest.post(source, token: token, ndjson: body, timeout: timeout)
      } catch {
        let timedOut = IngestClient.isTimeout(error)
        recorder.failed(kind: timedOut ? .timeout : .network, readings: readings)
        mayHaveLanded = true
        try? await Task.sleep(for: delay)
        delay = min(delay * 2, .seconds(2))
        continue
      }
      switch answer.status {
      case 202:
        // Decoded only when the body is long enough to hold a refusal count.
        let refused = answer.refused
        let accepted = readings - refused
        recorder.acknowledged(readings: accepted, latency: .now - started)
        totals.acknowledged += accepted
        if refused > 0 {
          recorder.refused(readings: refused, reason: "erased")
          totals.refused["erased", default: 0] += refused
        }
        if mayHaveLanded { totals.ambiguous += readings }
        if roll() < scenario.faults.duplicateDeliveries {
          // The answer is lost on the way back; the device sends the same batch again.
          recorder.injected("duplicate")
          mayHaveLanded = false
          delivered = true
          continue
        }
        return
      case 503:
        recorder.failed(kind: .backpressure, readings: readings)
        try? await Task.sleep(for: .seconds(1))
      case 400..<500:
        let reason = answer.rejection?.reason ?? "http_\(answer.status)"
        if answer.status == 403 {
          recorder.refused(readings: readings, reason: reason)
          totals.refused[reason, default: 0] += readings
        } else {
          recorder.failed(kind: .http4xx, readings: readings)
          totals.lost += readings
        }
        if mayHaveLanded { totals.ambiguous += readings }
        return
      default:
        recorder.failed(kind: .http5xx, readings: readings)
        mayHaveLanded = true
        try? await Task.sleep(for: delay)
        delay = min(delay * 2, .seconds(2))
      }
    }
    if delivered { return }
    totals.lost += readings
    if mayHaveLanded { totals.ambiguous += readings }
  }

  private mutating func roll() -> Double { Double(random.next() % 1_000_000) / 1_000_000 }
}
