/// One JSON value of a flat record.
enum FlatJSONValue {
  case string(String)
  /// A number, as written.
  case number(String)
  /// `true`, `false` or `null`.
  case literal(String)
  /// An object or an array (skipped; not expected in a Sensor Logger record).
  case nested(String)
}

/// Why an object could not be read.
enum FlatJSONFailure: Error {
  /// The bytes ended inside the object.
  case truncated
  /// Not valid JSON; `at` is where the problem was found.
  case invalid(String, at: Int)
}

/// A small JSON reader for the flat objects of a Sensor Logger export: string keys, and string or
/// number values. Nested values are skipped over (they are valid JSON, just not used).
struct FlatJSONReader {
  let bytes: [UInt8]
  var index: Int

  init(_ bytes: [UInt8], at index: Int) {
    self.bytes = bytes
    self.index = index
  }

  static func isWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
  }

  mutating func skipWhitespace() {
    while index < bytes.count, Self.isWhitespace(bytes[index]) { index += 1 }
  }

  private mutating func expectByte() throws(FlatJSONFailure) -> UInt8 {
    guard index < bytes.count else { throw .truncated }
    return bytes[index]
  }

  /// Reads the object that starts at `index` (a `{`), leaving `index` after its `}`.
  mutating func object() throws(FlatJSONFailure) -> [(key: String, value: FlatJSONValue)] {
    index += 1
    var members: [(key: String, value: FlatJSONValue)] = []
    skipWhitespace()
    if try expectByte() == UInt8(ascii: "}") {
      index += 1
      return members
    }
    while true {
      skipWhitespace()
      guard try expectByte() == UInt8(ascii: "\"") else { throw .invalid("expected a quoted key", at: index) }
      let key = try string()
      skipWhitespace()
      guard try expectByte() == UInt8(ascii: ":") else {
        throw .invalid("expected `:` after the key \"\(key)\"", at: index)
      }
      index += 1
      skipWhitespace()
      members.append((key, try value()))
      skipWhitespace()
      let next = try expectByte()
      index += 1
      if next == UInt8(ascii: "}") { return members }
      guard next == UInt8(ascii: ",") else { throw .invalid("expected `,` or `}` after a value", at: index - 1) }
    }
  }

  private mutating func value() throws(FlatJSONFailure) -> FlatJSONValue {
    let byte = try expectByte()
    switch byte {
    case UInt8(ascii: "\""):
      return .string(try string())
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      try skipNested()
      return .nested(byte == UInt8(ascii: "{") ? "an object" : "an array")
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      let start = index
      while index < bytes.count, Self.isNumberByte(bytes[index]) { index += 1 }
      guard index < bytes.count else { throw .truncated }
      return .number(String(decoding: bytes[start..<index], as: UTF8.self))
    case UInt8(ascii: "a")...UInt8(ascii: "z"):
      let start = index
      while index < bytes.count, bytes[index] >= UInt8(ascii: "a"), bytes[index] <= UInt8(ascii: "z") { index += 1 }
      guard index < bytes.count else { throw .truncated }
      let word = String(decoding: bytes[start..<index], as: UTF8.self)
      guard ["true", "false", "null"].contains(word) else { throw .invalid("`\(word)` is not a JSON value", at: start) }
      return .literal(word)
    default:
      throw .invalid("unexpected `\(Character(Unicode.Scalar(byte)))` where a value belongs", at: index)
    }
  }

  private static func isNumberByte(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
      || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
  }

  /// Skips a nested object or array, strings included.
  private mutating func skipNested() throws(FlatJSONFailure) {
    var depth = 0
    repeat {
      let byte = try expectByte()
      switch byte {
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        depth += 1
        index += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        depth -= 1
        index += 1
      case UInt8(ascii: "\""):
        _ = try string()
      default:
        index += 1
      }
    } while depth > 0
  }

  /// Reads the string that starts at `index` (a quote), decoding escapes.
  mutating func string() throws(FlatJSONFailure) -> String {
    index += 1
    var utf8: [UInt8] = []
    while true {
      let byte = try expectByte()
      index += 1
      switch byte {
      case UInt8(ascii: "\""):
        return String(decoding: utf8, as: UTF8.self)
      case UInt8(ascii: "\\"):
        let escape = try expectByte()
        index += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
            bytes[index + 1] == UInt8(ascii: "u")
          {
            index += 2
            let low = try hex4()
            scalar = (0xDC00..<0xE000).contains(low) ? 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
          }
          utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
        default:
          throw .invalid("`\\\(Character(Unicode.Scalar(escape)))` is not a JSON escape", at: index - 1)
        }
      case 0..<0x20:
        throw .invalid("a control character inside a string", at: index - 1)
      default:
        utf8.append(byte)
      }
    }
  }

  private mutating func hex4() throws(FlatJSONFailure) -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      let byte = try expectByte()
      let digit: UInt32
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
      default: throw .invalid("`\\u` needs four hex digits", at: index)
      }
      value = value * 16 + digit
      index += 1
    }
    return value
  }
}

/// Reads a Sensor Logger JSON export: one array of flat objects, every value a string,
/// keys `sensor,time,seconds_elapsed,z,y,x`, records grouped by sensor, the `Metadata` record inside.
///
/// * Which records: `Accelerometer` (gravity removed) or `TotalAcceleration` (gravity included, Android).
///   Without a choice, TotalAcceleration when the export has it, else Accelerometer. Records of the
///   other sensors (Gravity, Gyroscope, Metadata…) are counted in `otherRecords`, not imported.
/// * Conversions: as for the CSV: `time` (ns, read as an exact integer) ÷ 1 000 000 rounded down
///   (floor) to epoch ms; x, y, z in m/s² as they are. Number values are accepted as well as strings.
/// * A missing closing `]` (real exports have it) means the file was cut off: every complete record is
///   read, a record cut in the middle is rejected as `truncated`, and `isTruncated` is set.
/// * A record that is not valid JSON is rejected (with the line it starts on) and reading resumes on the
///   next line; a record of the chosen sensor without time/x/y/z, with a value that is not a number,
///   NaN/infinite, or with a key twice is rejected. Nothing is dropped without a trace.
struct SensorLoggerJSONImporter {
  let bytes: [UInt8]
  let path: String

  /// A record of an acceleration sensor, kept for the second pass.
  private struct Candidate {
    var line: Int
    var range: Range<Int>
    var members: [(key: String, value: FlatJSONValue)]
  }

  init(_ bytes: [UInt8], path: String) throws(PhoneImportError) {
    self.bytes = bytes
    self.path = path
    var start = DelimitedText.contentStart(bytes)
    while start < bytes.count, FlatJSONReader.isWhitespace(bytes[start]) { start += 1 }
    guard start < bytes.count else { throw .empty(path: path) }
    guard bytes[start] == UInt8(ascii: "[") || bytes[start] == UInt8(ascii: "{") else {
      let lineEnd = bytes[start...].firstIndex(of: DelimitedText.newline) ?? bytes.count
      throw .headerMismatch(
        path: path, format: .sensorLoggerJSON, expected: PhoneImportError.sensorLoggerJSONExpectation,
        found: DelimitedText.preview(bytes, start..<lineEnd))
    }
  }

  func read(sensor requested: SensorLoggerSensor?) throws(PhoneImportError) -> PhoneImport {
    var reader = FlatJSONReader(bytes, at: DelimitedText.contentStart(bytes))
    var rejected: [RejectedRow] = []
    var candidates: [SensorLoggerSensor: [Candidate]] = [:]
    var otherRecords: [String: Int] = [:]
    var notes: [String] = []
    var lineCursor = (position: 0, line: 1)
    func line(at position: Int) -> Int {
      var index = lineCursor.position
      var line = lineCursor.line
      while index < position {
        if bytes[index] == DelimitedText.newline { line += 1 }
        index += 1
      }
      lineCursor = (position, line)
      return line
    }
    func lineEnd(from position: Int) -> Int {
      bytes[min(position, bytes.count)...].firstIndex(of: DelimitedText.newline) ?? bytes.count
    }
    func trimmed(_ range: Range<Int>) -> [UInt8] {
      var end = range.upperBound
      while end > range.lowerBound, FlatJSONReader.isWhitespace(bytes[end - 1]) { end -= 1 }
      return Array(bytes[range.lowerBound..<end])
    }

    reader.skipWhitespace()
    let opened = reader.index < bytes.count && bytes[reader.index] == UInt8(ascii: "[")
    if opened {
      reader.index += 1
    } else {
      notes.append("the file has no opening `[`; it was read as a sequence of objects")
    }
    var closed = false
    var records = 0
    scan: while true {
      while reader.index < bytes.count,
        FlatJSONReader.isWhitespace(bytes[reader.index]) || bytes[reader.index] == DelimitedText.comma
      {
        reader.index += 1
      }
      guard reader.index < bytes.count else { break scan }
      let start = reader.index
      let startLine = line(at: start)
      switch bytes[start] {
      case UInt8(ascii: "]") where opened:
        closed = true
        reader.index += 1
        reader.skipWhitespace()
        if reader.index < bytes.count {
          rejected.append(
            RejectedRow(
              line: line(at: reader.index), reason: .invalidJSON, detail: "text after the closing `]`",
              raw: trimmed(reader.index..<bytes.count)))
        }
        break scan
      case UInt8(ascii: "{"):
        do {
          let members = try reader.object()
          records += 1
          classify(
            members, line: startLine, range: start..<reader.index, candidates: &candidates, other: &otherRecords,
            rejected: &rejected)
        } catch {
          switch error {
          case .truncated:
            rejected.append(
              RejectedRow(
                line: startLine, reason: .truncated, detail: "the file ends inside this record",
                raw: trimmed(start..<bytes.count)))
            reader.index = bytes.count
            break scan
          case .invalid(let why, let position):
            let end = lineEnd(from: position)
            rejected.append(RejectedRow(line: startLine, reason: .invalidJSON, detail: why, raw: trimmed(start..<end)))
            reader.index = min(end + 1, bytes.count)
          }
        }
      default:
        let end = lineEnd(from: start)
        rejected.append(
          RejectedRow(
            line: startLine, reason: .invalidJSON, detail: "expected a record `{…}` here", raw: trimmed(start..<end)))
        reader.index = min(end + 1, bytes.count)
      }
    }
    var truncated = false
    if opened && !closed {
      truncated = true
      notes.append(
        "the JSON array has no closing `]`: the export was cut off; all \(records) complete records were read"
          + (rejected.last?.reason == .truncated ? " and the incomplete last one was rejected" : ""))
    }

    let sensor: SensorLoggerSensor
    if let requested {
      sensor = requested
    } else if candidates[.totalAcceleration]?.isEmpty == false {
      sensor = .totalAcceleration
    } else {
      sensor = .accelerometer
    }
    guard let chosen = candidates[sensor], !chosen.isEmpty else {
      var available = otherRecords.merging(
        candidates.mapValues(\.count).reduce(into: [String: Int]()) { $0[$1.key.rawValue] = $1.value }
      ) { $0 + $1 }
      .filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }
      if !rejected.isEmpty { available.append("unreadable records (\(rejected.count))") }
      throw .sensorNotFound(path: path, requested: requested, available: available)
    }
    for (other, records) in candidates where other != sensor && !records.isEmpty {
      otherRecords[other.rawValue, default: 0] += records.count
    }
    if !otherRecords.isEmpty {
      notes.append(
        "records of other sensors were not imported: "
          + otherRecords.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }

    var times: [Int64] = []
    var values: [(Double, Double, Double)] = []
    for candidate in chosen {
      switch sample(candidate.members) {
      case .success(let (time, value)):
        times.append(time)
        values.append(value)
      case .failure(let failure):
        rejected.append(
          RejectedRow(
            line: candidate.line, reason: failure.reason, detail: failure.detail,
            raw: Array(bytes[candidate.range])))
      }
    }
    rejected.sort { $0.line < $1.line }
    return PhoneImport(
      format: .sensorLoggerJSON, stream: sensor.rawValue, gravity: sensor.gravity,
      samples: PhoneClock.samples(nanoseconds: times, values: values), rejected: rejected,
      sampleRate: PhoneClock.sampleRate(nanoseconds: times),
      nonIncreasingSteps: PhoneClock.nonIncreasingSteps(nanoseconds: times), otherRecords: otherRecords,
      isTruncated: truncated, notes: notes)
  }

  private func classify(
    _ members: [(key: String, value: FlatJSONValue)], line: Int, range: Range<Int>,
    candidates: inout [SensorLoggerSensor: [Candidate]], other: inout [String: Int], rejected: inout [RejectedRow]
  ) {
    let sensorValues = members.filter { $0.key == "sensor" }
    guard let first = sensorValues.first else {
      rejected.append(
        RejectedRow(
          line: line, reason: .missingField, detail: "the record has no \"sensor\" key", raw: Array(bytes[range])))
      return
    }
    guard case .string(let name) = first.value else {
      rejected.append(
        RejectedRow(line: line, reason: .wrongType, detail: "\"sensor\" is not a string", raw: Array(bytes[range])))
      return
    }
    if let sensor = SensorLoggerSensor(rawValue: name) {
      candidates[sensor, default: []].append(Candidate(line: line, range: range, members: members))
    } else {
      other[name, default: 0] += 1
    }
  }

  private struct SampleFailure: Error {
    var reason: PhoneRejectionReason
    var detail: String
  }

  /// The time (epoch ns) and x, y, z of one record of the chosen sensor.
  private func sample(
    _ members: [(key: String, value: FlatJSONValue)]
  ) -> Result<(Int64, (Double, Double, Double)), SampleFailure> {
    var seen: Set<String> = []
    for member in members where !seen.insert(member.key).inserted {
      return .failure(SampleFailure(reason: .duplicateField, detail: "the key \"\(member.key)\" appears twice"))
    }
    func text(_ key: String) -> Result<[UInt8], SampleFailure> {
      guard let value = members.first(where: { $0.key == key })?.value else {
        return .failure(SampleFailure(reason: .missingField, detail: "the record has no \"\(key)\" key"))
      }
      switch value {
      case .string(let text), .number(let text): return .success(Array(text.utf8))
      case .literal(let word): return .failure(SampleFailure(reason: .wrongType, detail: "\"\(key)\" is \(word)"))
      case .nested(let kind): return .failure(SampleFailure(reason: .wrongType, detail: "\"\(key)\" is \(kind)"))
      }
    }
    func failure<Value>(_ parse: NumberParse<Value>, key: String, text: [UInt8], what: String) -> SampleFailure? {
      let shown = String(decoding: text, as: UTF8.self)
      switch parse {
      case .value: return nil
      case .empty: return SampleFailure(reason: .missingValue, detail: "\"\(key)\" is empty")
      case .invalid: return SampleFailure(reason: .invalidNumber, detail: "\"\(key)\" `\(shown)` is not \(what)")
      case .nonFinite: return SampleFailure(reason: .nonFinite, detail: "\"\(key)\" `\(shown)` is not a finite number")
      case .outOfRange:
        return SampleFailure(
          reason: .timeOutOfRange, detail: "\"\(key)\" `\(shown)` does not fit a 64-bit nanosecond time")
      }
    }
    let timeText: [UInt8]
    switch text("time") {
    case .success(let value): timeText = value
    case .failure(let failure): return .failure(failure)
    }
    let timeParse = DelimitedText.scaled(timeText, 0..<timeText.count, scale: 0, decimalComma: false)
    if let failure = failure(timeParse, key: "time", text: timeText, what: "an epoch time in nanoseconds") {
      return .failure(failure)
    }
    if members.contains(where: { $0.key == "seconds_elapsed" }) {
      switch text("seconds_elapsed") {
      case .failure(let failure): return .failure(failure)
      case .success(let elapsed):
        let parse = DelimitedText.double(elapsed, 0..<elapsed.count, decimalComma: false)
        if let failure = failure(parse, key: "seconds_elapsed", text: elapsed, what: "a number") {
          return .failure(failure)
        }
      }
    }
    var axes: [Double] = []
    for key in ["x", "y", "z"] {
      switch text(key) {
      case .failure(let failure): return .failure(failure)
      case .success(let axisText):
        let parse = DelimitedText.double(axisText, 0..<axisText.count, decimalComma: false)
        if let failure = failure(parse, key: key, text: axisText, what: "a number") { return .failure(failure) }
        if case .value(let value) = parse { axes.append(value) }
      }
    }
    guard case .value(let time) = timeParse, axes.count == 3 else {
      return .failure(SampleFailure(reason: .invalidNumber, detail: "the record's numbers cannot be read"))
    }
    return .success((time, (axes[0], axes[1], axes[2])))
  }
}
