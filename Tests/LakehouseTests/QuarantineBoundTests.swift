import Foundation
import StediTestSupport
import Testing

@testable import Lakehouse

/// A garbage line costs a few kilobytes of quarantine whatever its length: its beginning, its
/// full length and its SHA-256. It is still quarantined, with its location and reason.
@Suite struct QuarantineBoundTests {
  /// The SHA-256 of `bytes` in hex, by coreutils' sha256sum (an implementation apart from ours).
  static func sha256sum(_ bytes: [UInt8]) throws -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
    try Data(bytes).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [file.path]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return String(text.prefix(64))
  }

  static let valid =
    #"{"email": "a@example.com", "serialNumber": "S-1", "registrationDate": 1700000000000, "lastUpdateDate": 1700000000000, "shareWithResearchAsOfDate": 1700000000000}"#

  @Test func megabytesOfNULsAndOfRandomBytesAreQuarantinedBoundedWithLengthAndDigest() async throws {
    let root = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: root).remove() }
    let nuls = [UInt8](repeating: 0, count: 6_000_000)
    var generator = SystemRandomNumberGenerator()
    var garbage = (0..<3_000_000).map { _ in
      var byte = UInt8.random(in: 0...255, using: &generator)
      if byte == UInt8(ascii: "\n") { byte = 0x0B }
      return byte
    }
    // Deterministic reason and encoding: not JSON from the first byte, not UTF-8 from the second.
    garbage[0] = UInt8(ascii: "~")
    garbage[1] = 0xFF
    // Text cut at the limit must stay text: 'x' then two-byte characters puts a character across it.
    let accented = Array(("x" + String(repeating: "é", count: 5000)).utf8)
    let short = Array(#"{"email": "b@example.com""#.utf8)
    var file: [UInt8] = Array(Self.valid.utf8) + [10] + nuls + [10] + garbage + [10] + accented + [10] + short + [10]
    file += Array(Self.valid.replacingOccurrences(of: "a@example.com", with: "c@example.com").utf8) + [10]
    try FileManager.default.createDirectory(atPath: "\(root)/customer/landing", withIntermediateDirectories: true)
    try Data(file).write(to: URL(fileURLWithPath: "\(root)/customer/landing/garbage.json"))

    // A small window sends the file through the large-file path too.
    for windowSize in [32 * 1024 * 1024, 1024 * 1024] {
      var pipeline = ZonePipeline(
        lake: try Lake(root: root), rules: ZoneRules(profile: .strict), key: LakeFixtures.testKey)
      pipeline.reader = NDJSONTableReader(windowSize: windowSize, parallelism: 2)
      let summary = try await pipeline.run()
      #expect(summary.published)
      let counts = try #require(summary.lines[.customer])
      #expect(counts.read == 6 && counts.accepted == 2 && counts.quarantined == 4 && counts.blank == 0)
      #expect(counts.read == counts.accepted + counts.quarantined + counts.blank)

      let quarantineFile = "\(root)/customer/quarantine/part-00000.json"
      let size = try #require(try FileManager.default.attributesOfItem(atPath: quarantineFile)[.size] as? Int)
      // Bounded: a kept 4 KiB is at most 6 bytes per byte escaped, plus its base64 for non-UTF-8.
      #expect(size < 4 * (6 * QuarantinedLine.keptBytes + 8 * 1024), "quarantine of \(size) bytes")

      let entries = try quarantineEntries(root, "customer")
      #expect(entries.map { $0["line"] as? Int } == [2, 3, 4, 5])

      let nul = entries[0]
      #expect(nul["sourceFile"] as? String == "customer/landing/garbage.json")
      #expect(nul["reason"] as? String == "invalid_json")
      #expect(nul["rawTruncated"] as? Bool == true)
      #expect(nul["rawLength"] as? Int == nuls.count)
      #expect(nul["rawSha256"] as? String == (try Self.sha256sum(nuls)))
      #expect((nul["raw"] as? String).map { Array($0.utf8) } == [UInt8](repeating: 0, count: QuarantinedLine.keptBytes))
      #expect(nul["rawBase64"] == nil)

      let random = entries[1]
      #expect(random["reason"] as? String == "invalid_json")
      #expect(random["rawLength"] as? Int == garbage.count)
      #expect(random["rawSha256"] as? String == (try Self.sha256sum(garbage)))
      let kept = try #require((random["rawBase64"] as? String).flatMap { Data(base64Encoded: $0) })
      #expect(kept.count <= QuarantinedLine.keptBytes && kept.count >= QuarantinedLine.keptBytes - 3)
      #expect(Array(kept) == Array(garbage.prefix(kept.count)))

      let text = entries[2]
      #expect(text["rawLength"] as? Int == accented.count)
      #expect(text["raw"] as? String == "x" + String(repeating: "é", count: 2047))
      #expect(text["rawBase64"] == nil)

      // A short line is kept whole, as before: no length or digest needed.
      let whole = entries[3]
      #expect(whole["reason"] as? String == "truncated")
      #expect(whole["raw"] as? String == String(decoding: short, as: UTF8.self))
      #expect(whole["rawTruncated"] == nil && whole["rawLength"] == nil && whole["rawSha256"] == nil)
    }
  }

  @Test func renderingALongLineOfControlBytesEscapesEachOnce() {
    var buffer = NDJSONBuffer()
    buffer.appendQuoted(String(decoding: [0, 0x1F, 0x0A, 0x22, 0x5C, 0x41, 0x09, 0x0D], as: UTF8.self))
    #expect(String(decoding: buffer.bytes, as: UTF8.self) == #""\u0000\u001f\n\"\\A\t\r""#)
  }

  @Test func aLineNamingAnErasedCustomerKeepsNeitherContentsNorDigest() {
    var line = QuarantinedLine(
      sourceFile: "customer/landing/x.json", line: 3, reason: .invalidJSON, detail: "unexpected",
      raw: [UInt8](repeating: UInt8(ascii: "a"), count: 10_000))
    #expect(line.rawTruncated && line.raw.count == QuarantinedLine.keptBytes && line.rawLength == 10_000)
    line.withholdContents()
    var buffer = NDJSONBuffer()
    line.render(into: &buffer)
    let text = String(decoding: buffer.bytes, as: UTF8.self)
    #expect(text.contains(#""raw":"""#))
    #expect(!text.contains("rawSha256"))
  }
}
