import ArgumentParser
import Foundation
import Lakehouse
import StepTrainerHost
import StepTrainerProtocol

/// `stedi capture`: records a Step Trainer's readings into the lake's step_trainer landing zone.
struct CaptureCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "capture",
    abstract: "Record readings from a Step Trainer (USB serial or pseudo-terminal) into the lake.",
    discussion: """
      Opens the port, completes the handshake and time sync, and writes readings to \
      <lake>/step_trainer/landing/ in atomically committed NDJSON batches, or with --ingest sends \
      them to `stedi serve` with the device's token. Reconnects with backoff when the device goes \
      away. Ctrl-C or SIGTERM commits what was captured and exits cleanly.

      With --port auto the device is looked for at every (re)connect, so one plugged in later, or \
      back under another name (/dev/ttyACM0 becoming /dev/ttyACM1), is found: the only USB serial \
      port, or the one --usb and/or --usb-serial name, or the one a link in --by-id DIR (e.g. \
      /dev/serial/by-id) points to, chosen by --link-name. While none is there the capture waits \
      (saying once on stderr what for); if several match it stops with an error naming them.
      """)

  @Option(help: "The device: a serial port or pseudo-terminal path, or 'auto' to look for it at every (re)connect.")
  var port: String

  @Option(help: "With --port auto: the USB device's vendor and product id in hex, VID:PID (e.g. 2e8a:000a).")
  var usb: String?

  @Option(name: .customLong("usb-serial"), help: "With --port auto: the USB device's serial number string.")
  var usbSerial: String?

  @Option(
    name: .customLong("by-id"),
    help: "With --port auto: a folder of links named after devices (e.g. /dev/serial/by-id); opens where one points.")
  var byID: String?

  @Option(
    name: .customLong("link-name"),
    help: "With --by-id: the link's name contains this text, or matches it as a glob if it has * ? or [.")
  var linkName: String?

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
    if port != "auto", usb != nil || usbSerial != nil || byID != nil || linkName != nil {
      throw ValidationError("--usb, --usb-serial, --by-id and --link-name go with --port auto")
    }
    if let usb, USBDeviceID(usb) == nil {
      throw ValidationError("--usb must be VID:PID in hex (e.g. 2e8a:000a), not '\(usb)'")
    }
    if byID != nil, usb != nil || usbSerial != nil {
      throw ValidationError("--by-id finds the device by its link; give --usb and --usb-serial without it")
    }
    if linkName != nil, byID == nil { throw ValidationError("--link-name needs --by-id DIR") }
    if let rate, !(1...16).contains(rate) { throw ValidationError("--rate must be between 1 and 16 Hz") }
    if let batchSize, !(1...45).contains(batchSize) { throw ValidationError("--batch-size must be between 1 and 45") }
    guard batchRecords > 0, batchSeconds > 0 else { throw ValidationError("batch limits must be positive") }
    guard (lake == nil) != (ingest == nil) else {
      throw ValidationError("give exactly one of --lake DIR and --ingest URL")
    }
    if ingest != nil, ingestToken == nil { throw ValidationError("--ingest needs --token (or $STEDI_TOKEN)") }
  }

  private var ingestToken: String? { token ?? ProcessInfo.processInfo.environment["STEDI_TOKEN"] }

  /// The port as the options name it; StepTrainerHost's matcher looks for it at every (re)connect.
  var matcher: PortMatcher {
    guard port == "auto" else { return .path(port) }
    if let byID { return .link(folder: byID, name: linkName) }
    return .usb(id: usb.flatMap { USBDeviceID($0) }, serialNumber: usbSerial)
  }

  func run() async throws {
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
    let connection = DeviceConnection(matching: matcher, baudRate: baud, traffic: traffic)
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
      progress: progress.isVisible ? CaptureRun.Progress(show: progress.show, finish: progress.finish) : nil,
      notice: progress.note)
    print(json ? outcome.status.json(writer: writer, raw: raw) : outcome.status.summary(writer: writer, raw: raw))
    if let failure = outcome.failure as? AmbiguousPort {
      throw CommandFailure.report("\(failure); name one with --port, or narrow the match")
    }
    if let failure = outcome.failure {
      throw CommandFailure.report("\(failure)")
    }
  }
}
