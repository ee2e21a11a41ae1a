import Foundation
import Lakehouse
import Synchronization

/// A raw capture: every byte a host exchanged with a device, with its wall-clock time, so a field
/// recording can be decoded again later (`stedi replay`). NDJSON, one object per line:
///
///     {"format":"stedi-raw-capture","version":1,"startedAt":1732...}      first line
///     {"t":1732...,"event":"opened","port":"/dev/ttyACM0"}               the port was (re)opened
///     {"t":1732...,"from":"device","hex":"0301..."}                      bytes received
///     {"t":1732...,"from":"host","hex":"00030101..."}                    bytes sent
///
/// Arrival times matter: the host's receive time of each time-sync response is the `t` of the
/// bytes that carried it, so a replay maps device time to wall-clock time exactly as the live
/// capture did.
public enum RawCapture {
  /// One line of a raw capture.
  public enum Entry: Sendable, Equatable {
    case opened(atMs: Int64, port: String)
    case bytes(atMs: Int64, fromDevice: Bool, bytes: [UInt8])
  }

  /// Why a raw capture could not be read.
  public struct FormatError: Error, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { "line \(line): \(reason)" }
  }

  /// Reads every entry of a raw capture file; a malformed line is an error naming the line
  /// (a truncated last line, as a killed capture leaves, is skipped and reported in `truncatedTail`).
  public static func read(path: String) throws -> (entries: [Entry], truncatedTail: Bool) {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    var truncatedTail = false
    if let last = lines.last, last.isEmpty { lines.removeLast() } else if !lines.isEmpty { truncatedTail = true }
    var entries: [Entry] = []
    let decoder = JSONDecoder()
    for (number, line) in lines.enumerated() {
      let isLast = number == lines.count - 1
      let entry: RawCaptureLine
      do {
        entry = try decoder.decode(RawCaptureLine.self, from: Data(line))
      } catch DecodingError.typeMismatch(_, let context) {
        let field = context.codingPath.last?.stringValue ?? "?"
        throw FormatError(line: number + 1, reason: "\"\(field)\" has the wrong type")
      } catch {
        if isLast && truncatedTail { break }
        throw FormatError(line: number + 1, reason: "not a JSON object")
      }
      if number == 0 {
        guard entry.format == "stedi-raw-capture" else {
          throw FormatError(line: 1, reason: "not a stedi raw capture (no \"format\": \"stedi-raw-capture\" header)")
        }
        continue
      }
      guard let time = entry.t else {
        throw FormatError(line: number + 1, reason: "missing time \"t\"")
      }
      if entry.event == "opened" {
        entries.append(.opened(atMs: time, port: entry.port ?? ""))
      } else if let from = entry.from, let hex = entry.hex, let bytes = Self.bytes(hex: hex) {
        entries.append(.bytes(atMs: time, fromDevice: from == "device", bytes: bytes))
      } else {
        throw FormatError(line: number + 1, reason: "neither bytes (\"from\", \"hex\") nor an \"opened\" event")
      }
    }
    return (entries, truncatedTail && !lines.isEmpty)
  }

  static func bytes(hex: String) -> [UInt8]? {
    let digits = Array(hex.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    func value(_ digit: UInt8) -> UInt8? {
      switch digit {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
      default: nil
      }
    }
    var i = 0
    while i < digits.count {
      guard let high = value(digits[i]), let low = value(digits[i + 1]) else { return nil }
      bytes.append(high << 4 | low)
      i += 2
    }
    return bytes
  }
}

/// Appends a raw capture to a file as traffic happens (safe to call from several tasks).
public final class RawCaptureWriter: Sendable {
  private let handle: Mutex<FileHandle?>

  /// Creates (or truncates) the file and writes the header.
  public init(path: String, startedAt: Int64) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil) else {
      throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
    }
    let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    handle = Mutex(file)
    write(#"{"format":"stedi-raw-capture","version":1,"startedAt":\#(startedAt)}"#)
  }

  /// Records that the port was (re)opened.
  public func opened(port: String, atMs: Int64) {
    let quoted = String(decoding: NDJSONBuffer.quoted(port), as: UTF8.self)
    write(#"{"t":\#(atMs),"event":"opened","port":\#(quoted)}"#)
  }

  /// Records bytes received from or sent to the device.
  public func record(_ bytes: [UInt8], atMs: Int64, fromDevice: Bool) {
    let hexDigits = Array("0123456789abcdef".utf8)
    var hex = [UInt8]()
    hex.reserveCapacity(bytes.count * 2)
    for byte in bytes {
      hex.append(hexDigits[Int(byte >> 4)])
      hex.append(hexDigits[Int(byte & 0xF)])
    }
    write(
      #"{"t":\#(atMs),"from":"\#(fromDevice ? "device" : "host")","hex":"\#(String(decoding: hex, as: UTF8.self))"}"#)
  }

  /// Flushes to disk and closes the file.
  public func close() {
    handle.withLock { file in
      try? file?.synchronize()
      try? file?.close()
      file = nil
    }
  }

  private func write(_ line: String) {
    handle.withLock { file in
      try? file?.write(contentsOf: Data((line + "\n").utf8))
    }
  }
}

/// One line of a raw capture file, as written: the header, an "opened" event, or bytes.
private struct RawCaptureLine: Decodable {
  var format: String?
  var t: Int64?
  var event: String?
  var port: String?
  var from: String?
  var hex: String?
}
