import ArgumentParser
import Foundation
import StepTrainerProtocol
import StepTrainerSimulator
import Synchronization

/// `stedi device simulate`: a Step Trainer on a pseudo-terminal that a host opens like a USB serial device.
struct DeviceSimulateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Run a simulated Step Trainer on a pseudo-terminal until --duration passes or SIGINT/SIGTERM.",
    discussion: """
      Prints the path a host opens as the first line on stdout, then speaks the Step Trainer protocol \
      (firmware-protocol/PROTOCOL.md) on it in real time: unsolicited HELLOs while no host is in a session, \
      readings of a simulated person exercising, heartbeats, time sync. Same seed, same device and samples. \
      A one-line summary goes to stderr at exit.
      """)

  @Option(help: "The device's serial number, a UUID (default: derived from the seed).")
  var serial: String?

  @Option(help: "Samples per second, 1 to 16 (in steps of 0.01).")
  var rate = 10.0

  @Option(help: "Readings per frame: 1 sends READINGs, up to 45 sends READING_BATCHes.")
  var batch = 1

  @Option(help: "Bursts of random bytes between frames, on average per minute.")
  var noise = 0.0

  @Option(name: .customLong("bit-flips"), help: "Chance per frame (0 to 1) that one of its bits is flipped.")
  var bitFlips = 0.0

  @Option(help: "Seed: the same seed gives the same device and the same samples.")
  var seed: UInt64 = 1

  @Option(help: "Stop after this many seconds (default: run until interrupted).")
  var duration: Double?

  @Option(name: .customLong("restart-after"), help: "Reboot the device once, this many seconds after the start.")
  var restartAfter: Double?

  @Option(help: "A symlink to create at this path pointing at the pseudo-terminal (a stable name for the device).")
  var link: String?

  @Option(help: "Write every sample generated to this file as NDJSON (the truth to compare a capture with).")
  var log: String?

  func validate() throws {
    guard rate >= 1, rate <= 16 else { throw ValidationError("--rate must be 1 to 16 Hz, not \(rate)") }
    guard (1...ReadingBatch.capacity).contains(batch) else {
      throw ValidationError("--batch must be 1 to \(ReadingBatch.capacity), not \(batch)")
    }
    guard noise >= 0, noise.isFinite else { throw ValidationError("--noise must be 0 or more bursts per minute") }
    guard (0...1).contains(bitFlips) else { throw ValidationError("--bit-flips must be a chance from 0 to 1") }
    if let duration { guard duration > 0 else { throw ValidationError("--duration must be more than 0 s") } }
    if let restartAfter {
      guard restartAfter > 0 else { throw ValidationError("--restart-after must be more than 0 s") }
    }
    if let serial, DeviceSerialNumber(serial) == nil {
      throw ValidationError("--serial must be a UUID (8-4-4-4-12 hex digits), not '\(serial)'")
    }
  }

  var options: SimulatorOptions {
    SimulatorOptions(
      seed: seed, serialNumber: serial.flatMap { DeviceSerialNumber($0) },
      sampleRateCentihertz: UInt16((rate * 100).rounded()), batchSize: batch, garbageBurstsPerMinute: noise,
      bitFlipChance: bitFlips, keepsLog: log != nil)
  }

  func run() async throws {
    let sampleLog: SampleLogFile?
    do {
      sampleLog = try log.map { path throws(SampleLogError) in try SampleLogFile(path: path) }
    } catch {
      throw CommandFailure.report("cannot write the sample log \(log ?? ""): \(error.reason)")
    }
    let device: PseudoTerminalDevice
    do {
      device = try PseudoTerminalDevice(options: options, link: link) { samples in sampleLog?.append(samples) }
    } catch {
      throw CommandFailure.report(error.description)
    }
    let stop = StopSignal()
    // Shared with `stedi capture` (StopSignals.swift): SIGINT and SIGTERM end the run, not the process.
    let signals = StopSignals { stop.request() }
    defer { signals.cancel() }

    do {
      try device.start()
    } catch {
      throw CommandFailure.report(error.description)
    }
    // Written straight to the descriptor, not through stdout's buffer: a script waits for this line.
    FileHandle.standardOutput.write(Data("\(device.path)\n".utf8))
    FileHandle.standardError.write(
      Data(
        "stedi: simulating Step Trainer \(options.effectiveSerialNumber) at \(device.path) (\(rate) Hz, seed \(seed))\n"
          .utf8))
    let logError = await SimulationRun(
      duration: duration.map { .milliseconds(Int64($0 * 1000)) },
      restartAfter: restartAfter.map { .milliseconds(Int64($0 * 1000)) }, sampleLog: sampleLog
    ).run(device) { stop.isRequested }
    let counters = device.counters
    FileHandle.standardError.write(
      Data(
        ("stedi: device simulate: samples \(counters.samplesTaken), sent \(counters.samplesSent), "
          + "dropped \(counters.samplesDropped), noise bursts \(counters.noiseBursts), "
          + "bit flips \(counters.bitFlips), host connections \(counters.hostConnections), "
          + "port opens \(device.portOpens), restarts \(counters.restarts)\n").utf8))
    if let logError { throw CommandFailure.report("writing the sample log \(log ?? ""): \(logError)") }
  }
}

/// Set by SIGINT or SIGTERM; polled by the command's loop.
private final class StopSignal: Sendable {
  private let requested = Mutex(false)

  func request() { requested.withLock { $0 = true } }

  var isRequested: Bool { requested.withLock { $0 } }
}
