import Foundation
import Testing

@testable import StepTrainerHost

/// A raw capture reads back what was written, and a damaged file is an error naming its line.
@Suite struct RawCaptureTests {
  private static func scratch(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("raw-\(name)-\(UUID().uuidString).ndjson").path
  }

  @Test func entriesReadBackAsWrittenEvenWithAQuoteInThePortName() throws {
    let path = Self.scratch("roundtrip")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let writer = try RawCaptureWriter(path: path, startedAt: 1_700_000_000_000)
    writer.opened(port: #"/dev/tty "usb" \ 1"#, atMs: 5)
    writer.record([0x00, 0x7E, 0xFF], atMs: 6, fromDevice: true)
    writer.record([0x01], atMs: 7, fromDevice: false)
    writer.close()
    let read = try RawCapture.read(path: path)
    #expect(!read.truncatedTail)
    #expect(
      read.entries == [
        .opened(atMs: 5, port: #"/dev/tty "usb" \ 1"#), .bytes(atMs: 6, fromDevice: true, bytes: [0x00, 0x7E, 0xFF]),
        .bytes(atMs: 7, fromDevice: false, bytes: [0x01]),
      ])
  }

  @Test func aDamagedLineIsAnErrorNamingItAndATruncatedTailIsReported() throws {
    let path = Self.scratch("damaged")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let header = #"{"format":"stedi-raw-capture","version":1,"startedAt":0}"#
    let cases: [(String, Int, String)] = [
      (header + "\n" + #"{"t":1,"from":"device"}"# + "\n", 2, "neither bytes"),
      (header + "\n" + #"{"t":"soon","event":"opened"}"# + "\n", 2, "wrong type"),
      (header + "\n" + #"{"event":"opened"}"# + "\n", 2, "missing time"),
      (header + "\n" + "not json\n" + #"{"t":1,"event":"opened"}"# + "\n", 2, "not a JSON object"),
      (#"{"t":1,"event":"opened"}"# + "\n", 1, "not a stedi raw capture"),
    ]
    for (text, line, reason) in cases {
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      let error = #expect(throws: RawCapture.FormatError.self) { try RawCapture.read(path: path) }
      #expect(error?.line == line && error?.reason.contains(reason) == true, "\(text): \(String(describing: error))")
    }
    try (header + "\n" + #"{"t":1,"event":"opened","port":"p"}"# + "\n" + #"{"t":2,"fro"#)
      .write(toFile: path, atomically: true, encoding: .utf8)
    let read = try RawCapture.read(path: path)
    #expect(read.truncatedTail && read.entries == [.opened(atMs: 1, port: "p")])
  }
}
