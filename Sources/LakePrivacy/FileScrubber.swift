import Foundation
import Lakehouse

/// Decides, line by line, which records of one lake file belong to erased customers.
///
/// When the customer's identifiers are known as text (`erase --email`), lines are screened
/// before any JSON is decoded: a line that contains none of them is not theirs and is kept as
/// it is, and a file that contains none of them is not rewritten at all. The identifiers are
/// canonical (`Identity`), and a text search ignoring ASCII case finds every spelling of them in
/// ASCII; other spellings (NFD, non-ASCII capitals, a Kelvin sign for a k) and JSON escapes need
/// bytes outside printable ASCII or a backslash, so a line holding either is always decoded.
struct FileScrubber: Sendable {
  var matcher: ErasureMatcher
  /// Canonical plaintext identifiers of the customer (emails, serial numbers only they held);
  /// nil when only hashes are known (re-applying the list): then every line is decoded.
  let needles: [[UInt8]]?
  /// Whether `needles` include every erased serial number (else step-trainer files are decoded).
  let serialsSearchable: Bool
  let restriction: CuratedRestriction?
  /// Files at least this large are scrubbed in line-aligned parts on all cores.
  var parallelThreshold = 4 << 20
  private var scratch: [UInt8] = []

  init(matcher: ErasureMatcher, needles: [[UInt8]]?, serialsSearchable: Bool, restriction: CuratedRestriction?) {
    self.matcher = matcher
    self.needles = needles
    self.serialsSearchable = serialsSearchable
    self.restriction = restriction
  }

  /// How lines of one kind of file are screened by text before decoding.
  struct Screen: Sendable {
    /// A line holding one of these (exactly) is removed without decoding: subjectIds, which
    /// appear nowhere but in their own column.
    var remove: [[UInt8]] = []
    /// A line holding one of these (ignoring case) is decoded and judged; any other line is kept.
    var inspect: [[UInt8]] = []
  }

  /// The screen for `kind`, or nil when every line must be decoded.
  func screen(for kind: LakeZoneFile) -> Screen? {
    guard let needles else { return nil }
    switch kind {
    case .customerLanding, .customerTrusted, .customersCurated, .accelerometerLanding, .accelerometerTrusted:
      return Screen(inspect: needles)
    case .stepTrainerLanding:
      return serialsSearchable ? Screen(inspect: needles) : nil
    case .stepTrainerTrusted, .machineLearningCurated:
      // Ownership changes only for the serial numbers the removed curated customers held.
      guard serialsSearchable else { return nil }
      let serials = (restriction?.affectedSerials ?? []).map { Array(Identity.canonical($0).utf8) }
      let subjects = kind == .machineLearningCurated ? (restriction?.removedSubjects ?? []).map { Array($0.utf8) } : []
      return Screen(remove: subjects, inspect: needles + serials)
    // Quarantine keeps non-UTF-8 lines in base64, which hides the text.
    case .customerQuarantine, .accelerometerQuarantine, .stepTrainerQuarantine, .other:
      return nil
    }
  }

  /// The file without the erased customers' lines, or nil if it has none.
  mutating func rewrite(_ bytes: [UInt8], kind: LakeZoneFile) -> LineRewrite.Outcome? {
    let screen = screen(for: kind)
    if let known = screen, !bytes.withUnsafeBufferPointer({ Self.holdsAny(known, $0) || Self.mayHideIdentity($0) }) {
      return nil
    }
    guard bytes.count >= parallelThreshold else {
      return LineRewrite.rewrite(bytes, keepLineNumbers: kind.isLanding) { line in
        isErased(line, kind: kind, screen: screen)
      }
    }
    // The tables the pipeline publishes are one file each, millions of lines: split at line
    // boundaries, each part with its own copy of this scrubber (and its caches).
    return bytes.withUnsafeBufferPointer { buffer -> LineRewrite.Outcome? in
      let ranges = LineRewrite.lineAlignedRanges(
        of: buffer, count: 4 * ProcessInfo.processInfo.activeProcessorCount)
      var parts = [LineRewrite.Outcome?](repeating: nil, count: ranges.count)
      var remaining = [Int](repeating: 0, count: ranges.count)
      let template = self
      let lineScreen = screen
      parts.withUnsafeMutableBufferPointer { parts in
        remaining.withUnsafeMutableBufferPointer { remaining in
          concurrentForEach(ranges.count) { index in
            var scrubber = template
            let part = UnsafeBufferPointer(rebasing: buffer[ranges[index]])
            parts[index] = LineRewrite.rewrite(part, keepLineNumbers: kind.isLanding) { line in
              scrubber.isErased(line, kind: kind, screen: lineScreen)
            }
            if parts[index] == nil {
              var lines = 0
              forEachLine(part) { _ in lines += 1 }
              remaining[index] = lines
            }
          }
        }
      }
      guard parts.contains(where: { $0 != nil }) else { return nil }
      var output: [UInt8] = []
      output.reserveCapacity(buffer.count)
      var outcome = LineRewrite.Outcome(bytes: [], removed: 0, remaining: 0)
      for (index, part) in parts.enumerated() {
        if let part {
          output += part.bytes
          outcome.removed += part.removed
          outcome.remaining += part.remaining
        } else {
          output += UnsafeBufferPointer(rebasing: buffer[ranges[index]])
          outcome.remaining += remaining[index]
        }
      }
      outcome.bytes = output
      return outcome
    }
  }

  /// The 0-based numbers of the lines of `lines` (a Parquet file's rows rendered as NDJSON lines,
  /// one per row) that belong to erased customers: the same screen and rules as `rewrite`.
  mutating func erasedLines(_ lines: [UInt8], kind: LakeZoneFile) -> [Int] {
    let screen = screen(for: kind)
    if let known = screen, !lines.withUnsafeBufferPointer({ Self.holdsAny(known, $0) || Self.mayHideIdentity($0) }) {
      return []
    }
    return lines.withUnsafeBufferPointer { buffer in
      // Large files in line-aligned parts on all cores, each with its own copy of this scrubber.
      let ranges =
        buffer.count >= parallelThreshold
        ? LineRewrite.lineAlignedRanges(of: buffer, count: 4 * ProcessInfo.processInfo.activeProcessorCount)
        : [0..<buffer.count]
      var parts = [(erased: [Int], lines: Int)](repeating: ([], 0), count: ranges.count)
      let template = self
      parts.withUnsafeMutableBufferPointer { parts in
        concurrentForEach(ranges.count) { index in
          var scrubber = template
          var number = 0
          var erased: [Int] = []
          forEachLine(UnsafeBufferPointer(rebasing: buffer[ranges[index]])) { line in
            if scrubber.isErased(line, kind: kind, screen: screen) { erased.append(number) }
            number += 1
          }
          parts[index] = (erased, number)
        }
      }
      var erased: [Int] = []
      var offset = 0
      for part in parts {
        erased += part.erased.map { $0 + offset }
        offset += part.lines
      }
      return erased
    }
  }

  /// Whether `bytes` hold a byte outside ASCII or a backslash: only then can a spelling of an
  /// identity escape a search for its canonical form that ignores ASCII case.
  static func mayHideIdentity(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var found: UInt8 = 0
    for byte in bytes { found |= (byte & 0x80) | (byte == 0x5C ? 0x80 : 0) }
    return found != 0
  }

  private static func holdsAny(_ screen: Screen, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    screen.remove.contains { ByteSearch.contains(bytes, $0) }
      || screen.inspect.contains { ByteSearch.containsIgnoringCase(bytes, $0) }
  }

  private mutating func isErased(_ line: UnsafeBufferPointer<UInt8>, kind: LakeZoneFile, screen: Screen?) -> Bool {
    if let screen {
      if screen.remove.contains(where: { ByteSearch.contains(line, $0) }) { return true }
      if !screen.inspect.contains(where: { ByteSearch.containsIgnoringCase(line, $0) }), !Self.mayHideIdentity(line) {
        return false
      }
    }
    return isErased(line, kind: kind)
  }

  private mutating func isErased(_ line: UnsafeBufferPointer<UInt8>, kind: LakeZoneFile) -> Bool {
    switch kind {
    case .customerLanding, .customerTrusted, .customersCurated:
      return matcher.isErasedRecord(line, source: .customer)
    case .accelerometerLanding, .accelerometerTrusted:
      return matcher.isErasedRecord(line, source: .accelerometer)
    case .stepTrainerLanding:
      return matcher.isErasedRecord(line, source: .stepTrainer)
    case .stepTrainerTrusted:
      var erased = false
      do {
        try StepTrainerReading.decode(line, scratch: &scratch) { serial, time, _ in
          erased = matcher.isErased(serialNumber: serial, time: time)
          if !erased, let restriction {
            erased = !restriction.allows(serial: String(decoding: serial, as: UTF8.self), time: time)
          }
        }
      } catch {
        return matcher.mentionsErased(line)
      }
      return erased
    case .machineLearningCurated:
      var erased = false
      let restriction = self.restriction
      do {
        try MachineLearningRow.decode(line) { fields in
          let serialNumber = String(decoding: fields.serialNumber, as: UTF8.self)
          if let user = fields.user, matcher.isErased(email: user) { erased = true }
          if matcher.isErased(serialNumber: fields.serialNumber, time: fields.sensorReadingTime) { erased = true }
          if let restriction {
            let subject = String(decoding: fields.subjectId, as: UTF8.self)
            if !restriction.subjects.contains(subject)
              || !restriction.allows(serial: serialNumber, time: fields.sensorReadingTime)
            {
              erased = true
            }
          }
        }
      } catch {
        return matcher.mentionsErased(line)
      }
      return erased
    case .customerQuarantine, .accelerometerQuarantine, .stepTrainerQuarantine, .other:
      if matcher.mentionsErased(line) { return true }
      return Self.rawBase64(of: line).map { bytes in bytes.withUnsafeBufferPointer { matcher.mentionsErased($0) } }
        ?? false
    }
  }

  /// The original bytes of a quarantine entry that kept them in base64 (lines that are not UTF-8).
  static func rawBase64(of line: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
    guard ByteSearch.containsIgnoringCase(line, Array("rawbase64".utf8)),
      let entry = try? JSONDecoder().decode(RawBase64Entry.self, from: Data(buffer: line)),
      let encoded = entry.rawBase64, let data = Data(base64Encoded: encoded)
    else { return nil }
    return Array(data)
  }

  /// The one member of a quarantine entry that erasure needs from a line that is not UTF-8.
  private struct RawBase64Entry: Decodable {
    var rawBase64: String?
  }
}
