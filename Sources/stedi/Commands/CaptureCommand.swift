import ArgumentParser
import Foundation
import Lakehouse
import SerialPort
import StepTrainerHost
import StepTrainerProtocol

/// `stedi capture`: records a Step Trainer's readings into the lake's step_trainer landing zone.
struct CaptureCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "capture",
    abstract: "Record readings from a Step Trainer (USB serial or pseudo-terminal) into the lake.",
    discussion: """
      Opens the port, completes the handshake and time sync, and writes readings to
      <lake>/step_trainer/landing/ in atomically committed NDJSON batches, or with --ingest sends
      them to `stedi serve` with the device's token. Reconnects with backoff when the device goes
      away. Ctrl-C or SIGTERM commits what was captured and exits cleanly.
      """)

  @Option(help: "The device: a serial port or pseudo-terminal path, or 'auto' for the only USB serial port.")
  var port: String

  @Option(help: "The lake folder; readings go to <lake>/step_trainer/landing/.")
  var lake: String?

  @Option(help: "Send readings to this ingest service (e.g. http://127.0.0.1:8080) instead of a lake.")
  var ingest: String?

  @Option(help: "The device's token for --ingest (from `stedi token issue --device SERIAL`); default $STEDI_TOKEN.")
  var token: String?

  @Option(help: "Baud rate (8N1).")
  var baud = 115_200

  @Option(help: "Also save every byte exchanged, with its arrival time, to this file (for `stedi replay`).")
  var raw: String?

  @Option(help: "Commit a landing file after this many readings.")
  var batchRecords = 1000

  @Option(help: "Commit a landing file when its first reading is this many seconds old.")
  var batchSeconds = 10.0

  @Option(help: "Stop after this many seconds (default: run until interrupted).")
  var duration: Double?

  @Option(help: "Ask the device for this sample rate, Hz (1-16).")
  var rate: Double?

  @Option(help: "Ask the device to send this many readings per frame (1-45).")
  var batchSize: Int?

  @Flag(help: "Print the summary as JSON.")
  var json = false

  func validate() throws {
    if let rate, !(1...16).contains(rate) { throw ValidationError("--rate must be between 1 and 16 Hz") }
    if let batchSize, !(1...45).contains(batchSize) { throw ValidationError("--batch-size must be between 1 and 45") }
    guard batchRecords > 0, batchSeconds > 0 else { throw ValidationError("batch limits must be positive") }
    guard (lake == nil) != (ingest == nil) else {
      throw ValidationError("give exactly one of --lake DIR and --ingest URL")
    }
    if ingest != nil, ingestToken == nil { throw ValidationError("--ingest needs --token (or $STEDI_TOKEN)") }
  }

  private var ingestToken: String? { token ?? ProcessInfo.processInfo.environment["STEDI_TOKEN"] }

  func run() async throws {
    let path = try resolvePort()
    let started = WallClock.nowMs()
    let rawWriter: RawCaptureWriter?
    do {
      rawWriter = try raw.map { try RawCaptureWriter(path: $0, startedAt: started) }
    } catch {
      throw CommandFailure.report("cannot create the raw capture file \(raw ?? ""): \(error)")
    }
    let writer: any CaptureDestination =
      if let ingest {
        IngestCaptureSender(
          serviceURL: ingest, token: ingestToken!, maxRecords: batchRecords, maxAgeMs: Int64(batchSeconds * 1000))
      } else {
        LandingCaptureWriter(lake: lake!, maxRecords: batchRecords, maxAgeMs: Int64(batchSeconds * 1000))
      }
    var traffic: DeviceSession.TrafficHandler?
    if let rawWriter {
      traffic = { bytes, time, fromDevice in rawWriter.record(bytes, atMs: time, fromDevice: fromDevice) }
    }
    let connection = DeviceConnection(path: path, baudRate: baud, traffic: traffic)
    if rate != nil || batchSize != nil {
      connection.configure(
        Configure(
          sampleRateCentihertz: rate.map { UInt16(($0 * 100).rounded()) } ?? 0, batchSize: UInt8(batchSize ?? 0)))
    }
    let progress = TerminalProgress()
    let capture = CaptureRun(
      connection: connection, destination: writer, raw: rawWriter, duration: duration.map { .seconds($0) })
    let outcome = await capture.run(
      installStop: { stop in
        let signals = StopSignals(onStop: stop)
        return { signals.cancel() }
      },
      progress: progress.isVisible ? CaptureRun.Progress(show: progress.show, finish: progress.finish) : nil)
    print(json ? outcome.status.json(writer: writer, raw: raw) : outcome.status.summary(writer: writer, raw: raw))
    if let failure = outcome.failure {
      throw CommandFailure.report("\(failure)")
    }
  }

  private func resolvePort() throws -> String {
    guard port == "auto" else { return port }
    let usb = ((try? SerialPorts.list()) ?? []).filter { $0.transport == .usb }
    guard usb.count == 1 else {
      let found = usb.isEmpty ? "none" : usb.map(\.path).joined(separator: ", ")
      throw CommandFailure.report(
        "--port auto needs exactly one USB serial port (found: \(found)); name one with --port")
    }
    return usb[0].path
  }
}
