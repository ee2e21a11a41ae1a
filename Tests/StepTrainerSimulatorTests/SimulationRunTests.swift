import Foundation
import StepTrainerSimulator
import Testing

/// `SimulationRun`, the loop behind `stedi device simulate`, in process: it stops at its
/// duration or when asked, reboots the device once when told, and its sample log holds every
/// sample the device generated.
@Suite("A simulated device's real-time run", .serialized)
struct SimulationRunTests {
  private func scratchFile(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("stedi-run-\(UUID().uuidString)-\(name)").path
  }

  @Test func runsForItsDurationRebootsOnceAndLogsEverySample() async throws {
    let path = scratchFile("samples.ndjson")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let log = try SampleLogFile(path: path)
    let device = try PseudoTerminalDevice(options: SimulatorOptions(seed: 21, keepsLog: true)) { samples in
      log.append(samples)
    }
    try device.start()
    // The reboot is due long before the end: on a busy machine a late wake-up of the 20 ms loop
    // must still find the reboot due before the duration has passed.
    let failure = await SimulationRun(duration: .seconds(3), restartAfter: .milliseconds(200), sampleLog: log)
      .run(device) { false }
    #expect(failure == nil)
    let counters = device.counters
    #expect(counters.restarts == 1)
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == counters.samplesTaken, "every generated sample is in the log")
    #expect(lines.count > 0)
    for line in lines {
      #expect(try JSONSerialization.jsonObject(with: Data(line.utf8)) is [String: Any])
    }
  }

  @Test func stopsWhenAskedWithoutADuration() async throws {
    let device = try PseudoTerminalDevice(options: SimulatorOptions(seed: 22))
    try device.start()
    let asked = ContinuousClock.now + .milliseconds(300)
    let failure = await SimulationRun().run(device) { ContinuousClock.now >= asked }
    #expect(failure == nil)
    #expect(device.counters.restarts == 0)
  }
}
