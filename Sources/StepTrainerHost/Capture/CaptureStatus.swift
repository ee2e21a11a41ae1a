import Foundation
import StepTrainerProtocol

/// The counts a capture shows while it runs and prints when it ends.
public struct CaptureStatus: Sendable {
  /// The device's path: the last one opened, or until then what the capture waits for.
  public var port: String
  let started = ContinuousClock.now
  /// Every session's counters so far.
  public var counters = SessionCounters()
  /// Times the link was reopened.
  public var reconnects = 0
  /// The device, once a session has connected.
  public var device: DeviceInfo?
  /// The latest fault, refusal or link failure, for the live line.
  public var lastProblem: String?

  /// The status of a capture from `port`, starting now.
  public init(port: String) { self.port = port }

  /// Takes in what the connection reported.
  public mutating func note(_ event: DeviceConnection.Event) {
    switch event {
    case .session(.connected(let info)), .session(.deviceRestarted(let info)):
      device = info
    case .session(.fault(let fault)):
      lastProblem = "device fault \(fault.code.rawValue) (detail \(fault.detail))"
    case .session(.configurationRefused(_, let reason)):
      lastProblem = "configuration refused: \(reason)"
    case .ended(let error):
      lastProblem = error.description
    case .opened(let path):
      port = path
    case .waiting(let wanted):
      lastProblem = "waiting for \(wanted)"
    default:
      break
    }
  }

  /// Seconds since the capture started.
  public var seconds: Double {
    let elapsed = (ContinuousClock.now - started).components
    return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
  }

  /// The live line: readings so far, `written` of them landed or held.
  public func line(written: Int) -> String {
    let rejected = counters.decoder.framesRejected
    var text = String(
      format: "%@ %.0fs: %d readings (%d written), %d bad frames, %d lost, %d reconnects",
      device?.serialNumber ?? port, seconds, counters.readings, written, rejected, counters.lost, reconnects)
    if let lastProblem, device == nil { text += " - \(lastProblem)" }
    return text
  }

  /// The summary printed at the end, one line per aspect.
  public func summary(writer: any CaptureDestination, raw: String?) -> String {
    var lines = [
      "captured from \(port)"
        + (device.map { ": Step Trainer \($0.serialNumber), firmware \($0.firmwareVersion), \($0.sampleRate) Hz" } ?? ""),
      "  readings      \(counters.readings) (ok \(counters.ok), out of range \(counters.outOfRange), no echo \(counters.noEcho), sensor fault \(counters.sensorFault))",
      "  landed        \(writer.summaryOfWrites)",
      "  not landed    \(writer.samplesWithoutDistance) samples without a valid distance (status kept, never a distance)",
      "  lost          \(counters.lost) (gaps in the device's sample counter), \(counters.duplicates) duplicates dropped",
      "  frames        \(counters.decoder.messages) decoded, \(counters.decoder.framesRejected) rejected, \(counters.decoder.bytesDiscarded) bytes discarded, \(counters.missingFrames) missing and \(counters.repeatedFrames) repeated by sequence number",
      "  link          \(reconnects) reconnects, \(counters.restarts) device restarts, \(counters.faults) faults",
      String(format: "  time          %.1f s", seconds),
    ]
    if let raw { lines.append("  raw capture   \(raw)") }
    return lines.joined(separator: "\n")
  }

  /// The summary as one line of JSON (`stedi capture --json`).
  public func json(writer: any CaptureDestination, raw: String?) -> String {
    var rejected: [String: Int] = [:]
    for reason in FrameRejection.allCases { rejected["\(reason)"] = counters.decoder[reason] }
    let summary = CaptureSummary(
      port: port, serialNumber: device?.serialNumber, readings: counters.readings,
      status: .init(
        ok: counters.ok, outOfRange: counters.outOfRange, noEcho: counters.noEcho, sensorFault: counters.sensorFault),
      landed: writer.recordsWritten, files: writer.filesWritten, withoutDistance: writer.samplesWithoutDistance,
      lost: counters.lost, duplicates: counters.duplicates, missingFrames: counters.missingFrames,
      repeatedFrames: counters.repeatedFrames,
      frames: .init(
        decoded: counters.decoder.messages, rejected: rejected, bytesDiscarded: counters.decoder.bytesDiscarded),
      reconnects: reconnects, restarts: counters.restarts, faults: counters.faults, seconds: seconds, raw: raw)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Plain numbers, strings and dictionaries: encoding cannot fail.
    return String(decoding: try! encoder.encode(summary), as: UTF8.self)
  }
}

/// `stedi capture --json`'s summary line.
private struct CaptureSummary: Encodable {
  struct Status: Encodable {
    let ok, outOfRange, noEcho, sensorFault: Int
  }
  struct Frames: Encodable {
    let decoded: Int
    let rejected: [String: Int]
    let bytesDiscarded: Int
  }
  let port: String
  let serialNumber: String?
  let readings: Int
  let status: Status
  let landed, files, withoutDistance, lost, duplicates, missingFrames, repeatedFrames: Int
  let frames: Frames
  let reconnects, restarts, faults: Int
  let seconds: Double
  let raw: String?

  private enum CodingKeys: String, CodingKey {
    case port, serialNumber, readings, status, landed, files, withoutDistance, lost, duplicates, missingFrames
    case repeatedFrames, frames, reconnects, restarts, faults, seconds, raw
  }

  // Written out so that an unknown serial number or no raw capture is `null`, as readers expect,
  // rather than a missing key.
  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(port, forKey: .port)
    try container.encode(serialNumber, forKey: .serialNumber)
    try container.encode(readings, forKey: .readings)
    try container.encode(status, forKey: .status)
    try container.encode(landed, forKey: .landed)
    try container.encode(files, forKey: .files)
    try container.encode(withoutDistance, forKey: .withoutDistance)
    try container.encode(lost, forKey: .lost)
    try container.encode(duplicates, forKey: .duplicates)
    try container.encode(missingFrames, forKey: .missingFrames)
    try container.encode(repeatedFrames, forKey: .repeatedFrames)
    try container.encode(frames, forKey: .frames)
    try container.encode(reconnects, forKey: .reconnects)
    try container.encode(restarts, forKey: .restarts)
    try container.encode(faults, forKey: .faults)
    try container.encode(seconds, forKey: .seconds)
    try container.encode(raw, forKey: .raw)
  }
}
