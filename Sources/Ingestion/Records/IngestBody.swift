import IngestAPI
import Lakehouse

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A request's records, validated, authorised and rendered as landing NDJSON.
public struct IngestBatch: Sendable {
  /// The landing source the records go to.
  public var source: LandingSource
  /// One NDJSON line per record, in the pipeline's field names, each ending in a newline.
  public var ndjson: [UInt8]
  /// The number of records.
  public var count: Int
  /// Records of erased customers left out of `ndjson`.
  public var refused: Int = 0
  /// The version of the erasure list the records were checked against (see `ErasureGuard`).
  public var erasureVersion: UInt64 = 0
  /// Customer records refused as an erased customer's: their serial numbers go on the erasure
  /// list (`ErasureGuard.learnSerials`), so the device's readings up to the erasure go too.
  public var refusedCustomers: [CustomerRecord] = []
}

/// Turns a request body (a JSON array of objects, or NDJSON) into an `IngestBatch`, all or nothing.
public enum IngestBody {
  /// Parses, validates and authorises every record of `body`, leaving out erased customers' records.
  public static func parse(
    _ body: UnsafeRawBufferPointer, source: LandingSource, token: AccessToken, erasures: ErasureGuard.Snapshot = .none
  ) throws(IngestRejection) -> IngestBatch {
    // The first bad record rejects the request; so does a body of erased customers' records only.
    let batch = try parseKeepingRefusals(body, source: source, token: token, erasures: erasures)
    if batch.count == 0 { throw erased }
    return batch
  }

  /// The answer to a body whose every record belongs to an erased customer. It names no one:
  /// the sender already knows whose records it sent, and responses end up in logs.
  static let erased = IngestRejection(
    status: 403, reason: "erased",
    message: "this customer's data was erased at their request; their records are refused for good")

  /// `parse`, except that a body whose every record was refused gives a batch of none (so the
  /// service can count them before it answers 403).
  static func parseKeepingRefusals(
    _ body: UnsafeRawBufferPointer, source: LandingSource, token: AccessToken, erasures: ErasureGuard.Snapshot
  ) throws(IngestRejection) -> IngestBatch {
    try authoriseEndpoint(source: source, token: token)
    var output = NDJSONBuffer(capacity: body.count + body.count / 8, spaced: source == .customer)
    var refusal = Refusal(erasures.matcher, token: token)
    let times = RecordTimeWindow.current()
    var count = 0
    var refused = 0
    let bytes = body.bindMemory(to: UInt8.self)
    var canonical = CanonicalReadings(body: bytes, source: source, token: token, refusal: refusal)
    try forEachRecord(in: bytes) { (record, line, index) throws(IngestRejection) in
      if let kept = canonical.take(record, times: times, refusal: &refusal, into: &output) {
        if kept { count += 1 } else { refused += 1 }
        return
      }
      // The slow path appends to `output` itself: the lines taken before it go first.
      canonical.flush(into: &output)
      do throws(IngestRejection) {
        if try render(record, source: source, token: token, times: times, refusal: &refusal, into: &output) {
          count += 1
        } else {
          refused += 1
        }
      } catch var rejection {
        rejection.line = line
        rejection.record = index
        throw rejection
      }
    }
    canonical.flush(into: &output)
    guard count + refused > 0 else {
      throw IngestRejection(status: 400, reason: "empty", message: "the body holds no records")
    }
    return IngestBatch(
      source: source, ndjson: output.bytes, count: count, refused: refused, erasureVersion: erasures.version,
      refusedCustomers: refusal.refusedCustomers)
  }

  /// What to refuse, worked out once per request: an empty list costs one branch per record, a
  /// user or device token one hash per request (its records are all its own).
  struct Refusal {
    private var matcher: ErasureMatcher
    /// Whether any record could be refused at all.
    let active: Bool
    private var subjectErased = false
    private var subjectCutoff: Int64?
    /// Customer records refused so far.
    var refusedCustomers: [CustomerRecord] = []

    init(_ matcher: ErasureMatcher, token: AccessToken) {
      self.matcher = matcher
      active = !matcher.isEmpty
      guard active else { return }
      switch token.role {
      case .user: subjectErased = self.matcher.isErased(email: token.subject)
      case .device: subjectCutoff = self.matcher.cutoff(serialNumber: token.subject)
      case .admin: break
      }
    }

    /// Whether a step-trainer reading belongs to an erased customer (only up to the serial's cutoff:
    /// later readings may be a refurbished device's next owner's).
    mutating func refuses(serialNumber: String, time: Int64, token: AccessToken) -> Bool {
      let cutoff = token.role == .device ? subjectCutoff : matcher.cutoff(serialNumber: serialNumber)
      guard let cutoff else { return false }
      return time <= cutoff
    }

    /// Whether a device token's own reading at `time` belongs to an erased customer (what
    /// `refuses(serialNumber:time:token:)` answers for a device token, without the serial).
    func refusesOwnReading(time: Int64) -> Bool {
      guard let subjectCutoff else { return false }
      return time <= subjectCutoff
    }

    /// Whether a record of `email` belongs to an erased customer.
    mutating func refuses(email: String, token: AccessToken) -> Bool {
      token.role == .user ? subjectErased : matcher.isErased(email: email)
    }
  }

  /// The fast path for step-trainer readings that arrive exactly as `render` would write them
  /// (see `StepTrainerReading.canonicalLine`): checked without building a reading or a String and
  /// landed as received, which is byte for byte what decoding and rendering them would land.
  /// Anything it cannot decide alone goes the slow way, which also words every rejection.
  struct CanonicalReadings {
    /// The request body the records lie in.
    private let body: UnsafeBufferPointer<UInt8>
    /// Whether the fast path applies to this request at all.
    private let enabled: Bool
    /// A device token's serial number, which every reading must name; nil for an admin token.
    private let subject: [UInt8]?
    /// Taken lines not yet copied to the output: a stretch of the body that is already exactly
    /// the landing NDJSON (lines and their newlines), copied at once rather than line by line.
    private var run: Range<Int>?

    init(body: UnsafeBufferPointer<UInt8>, source: LandingSource, token: AccessToken, refusal: Refusal) {
      self.body = body
      // An admin's readings may be of any serial, and checking those against the erasure list
      // takes the serial as a String: the slow path does that.
      enabled = source == .stepTrainer && (token.role == .device || (token.role == .admin && !refusal.active))
      subject = token.role == .device ? Array(token.subject.utf8) : nil
    }

    /// True when `record` was taken (it goes to `output`, perhaps at the next `flush`), false when
    /// it was refused as an erased customer's, nil when it must go the slow way.
    @inline(__always)
    mutating func take(
      _ record: UnsafeBufferPointer<UInt8>, times: RecordTimeWindow, refusal: inout Refusal,
      into output: inout NDJSONBuffer
    ) -> Bool? {
      guard enabled, let line = StepTrainerReading.canonicalLine(record, times: times) else { return nil }
      if let subject {
        // Another serial than the token's is rejected by the slow path, which words the error.
        guard Self.names(UnsafeBufferPointer(rebasing: record[line.serialNumber]), subject) else { return nil }
        if refusal.active, refusal.refusesOwnReading(time: line.sensorReadingTime) { return false }
      }
      let start = record.baseAddress! - body.baseAddress!
      let end = start + record.count
      guard end < body.count, body[end] == 0x0A else {
        // Not followed by a bare newline (a CR, trailing blanks, an array's comma): the line and a
        // newline of its own.
        flush(into: &output)
        output.appendLine(record)
        return true
      }
      if let current = run, current.upperBound == start {
        run = current.lowerBound..<end + 1
      } else {
        flush(into: &output)
        run = start..<end + 1
      }
      return true
    }

    /// `AccessToken.names` for a printable ASCII serial, on its bytes: the token's subject as it
    /// is, or the serial's canonical form (`Identity.canonical`: for ASCII, surrounding spaces
    /// trimmed and A-Z lower-cased) equal to it.
    @inline(__always)
    static func names(_ serial: UnsafeBufferPointer<UInt8>, _ subject: [UInt8]) -> Bool {
      subject.withUnsafeBufferPointer { subject in
        if serial.count == subject.count,
          serial.isEmpty || memcmp(serial.baseAddress!, subject.baseAddress!, serial.count) == 0
        {
          return true
        }
        // Printable ASCII has no other white space than the space.
        var start = 0
        var end = serial.count
        while start < end, serial[start] == 0x20 { start += 1 }
        while end > start, serial[end - 1] == 0x20 { end -= 1 }
        guard end - start == subject.count else { return false }
        for index in 0..<subject.count {
          let byte = serial[start + index]
          if (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) != subject[index] { return false }
        }
        return true
      }
    }

    /// Copies the lines taken so far to `output`.
    @inline(__always)
    mutating func flush(into output: inout NDJSONBuffer) {
      guard let current = run else { return }
      output.appendLines(UnsafeBufferPointer(rebasing: body[current]))
      run = nil
    }
  }

  /// A role may use only its own endpoint: devices step-trainer readings, phones accelerometer
  /// readings; customer records need an admin.
  static func authoriseEndpoint(source: LandingSource, token: AccessToken) throws(IngestRejection) {
    let allowed: Bool =
      switch token.role {
      case .admin: true
      case .device: source == .stepTrainer
      case .user: source == .accelerometer
      }
    guard allowed else {
      throw IngestRejection(
        status: 403, reason: "wrong_role",
        message: "a \(token.role.rawValue) token may not write \(source.rawValue) records")
    }
  }

  /// Validates one record and renders it into `output`; false when it is refused as erased.
  private static func render(
    _ record: UnsafeBufferPointer<UInt8>, source: LandingSource, token: AccessToken, times: RecordTimeWindow,
    refusal: inout Refusal, into output: inout NDJSONBuffer
  ) throws(IngestRejection) -> Bool {
    do {
      switch source {
      case .stepTrainer:
        let reading = try StepTrainerReading.decode(record, times: times)
        if token.role == .device, !token.names(reading.serialNumber) {
          throw IngestRejection(
            status: 403, reason: "wrong_serial",
            message: "this device token is for another serial number than the reading's", field: "serialNumber")
        }
        if refusal.active,
          refusal.refuses(serialNumber: reading.serialNumber, time: reading.sensorReadingTime, token: token)
        {
          return false
        }
        reading.render(into: &output)
      case .accelerometer:
        let reading = try AccelerometerReading.decode(record, times: times)
        if token.role == .user, !token.names(reading.user) {
          throw IngestRejection(
            status: 403, reason: "wrong_user", message: "this token is for another user than the reading's",
            field: "user")
        }
        if refusal.active, refusal.refuses(email: reading.user, token: token) { return false }
        reading.render(into: &output)
      case .customer:
        let customer = try CustomerRecord.decode(record, times: times)
        if refusal.active, refusal.refuses(email: customer.email, token: token) {
          refusal.refusedCustomers.append(customer)
          return false
        }
        customer.render(into: &output)
      }
      return true
    } catch let error as RecordError {
      throw IngestRejection(status: 400, reason: error.reason.rawValue, message: error.detail, field: error.field)
    } catch let rejection as IngestRejection {
      throw rejection
    } catch {
      throw IngestRejection(status: 400, reason: "invalid", message: "\(error)")
    }
  }

  /// Calls `body` with each record's bytes, its 1-based starting line and its 1-based index.
  ///
  /// A body starting with `[` is one JSON array of objects (split here at the top level, strings
  /// and escapes respected); anything else is NDJSON, one object per line, blank lines allowed.
  static func forEachRecord(
    in bytes: UnsafeBufferPointer<UInt8>,
    _ body: (UnsafeBufferPointer<UInt8>, Int, Int) throws(IngestRejection) -> Void
  ) throws(IngestRejection) {
    var position = 0
    var line = 1
    func skipWhitespace() {
      while position < bytes.count {
        switch bytes[position] {
        case 0x0A:
          line += 1
          position += 1
        case 0x20, 0x09, 0x0D: position += 1
        default: return
        }
      }
    }
    skipWhitespace()
    guard position < bytes.count else { return }
    var index = 0
    if bytes[position] != UInt8(ascii: "[") {
      // NDJSON: each non-blank line is one record; the record decoder reports what is wrong in it.
      let base = bytes.baseAddress!
      while position < bytes.count {
        // memchr finds the newline many bytes at a time; a byte loop here was 5% of the service.
        var end = bytes.count
        if let found = memchr(base + position, 0x0A, bytes.count - position) {
          end = UnsafeRawPointer(found) - UnsafeRawPointer(base)
        }
        var trimmedEnd = end
        while trimmedEnd > position, isBlank(bytes[trimmedEnd - 1]) { trimmedEnd -= 1 }
        if trimmedEnd > position {
          index += 1
          try body(UnsafeBufferPointer(rebasing: bytes[position..<trimmedEnd]), line, index)
        }
        line += 1
        position = end + 1
      }
      return
    }
    position += 1
    skipWhitespace()
    if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
      position += 1
    } else {
      while true {
        skipWhitespace()
        index += 1
        let startLine = line
        guard position < bytes.count, bytes[position] == UInt8(ascii: "{") else {
          throw IngestRejection(
            status: 400, reason: position < bytes.count ? "not_an_object" : "truncated",
            message: position < bytes.count
              ? "array element \(index) is not a JSON object" : "the array ends before its closing ']'",
            line: line, record: index)
        }
        let start = position
        guard let end = objectEnd(bytes, from: start, line: &line) else {
          throw IngestRejection(
            status: 400, reason: "truncated", message: "array element \(index) is not closed",
            line: startLine, record: index)
        }
        position = end
        try body(UnsafeBufferPointer(rebasing: bytes[start..<end]), startLine, index)
        skipWhitespace()
        guard position < bytes.count else {
          throw IngestRejection(
            status: 400, reason: "truncated", message: "the array ends before its closing ']'", line: line,
            record: index)
        }
        if bytes[position] == UInt8(ascii: ",") {
          position += 1
          continue
        }
        guard bytes[position] == UInt8(ascii: "]") else {
          throw IngestRejection(
            status: 400, reason: "invalid_json", message: "expected ',' or ']' after array element \(index)",
            line: line, record: index)
        }
        position += 1
        break
      }
    }
    skipWhitespace()
    guard position == bytes.count else {
      throw IngestRejection(
        status: 400, reason: "invalid_json", message: "unexpected bytes after the array's closing ']'", line: line)
    }
  }

  /// A space, tab or carriage return: trimmed from the end of an NDJSON line.
  @inline(__always) private static func isBlank(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0D
  }

  /// The offset just past the `}` that closes the object starting at `start`, or nil if the
  /// body ends first. Counts newlines into `line`.
  private static func objectEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, line: inout Int) -> Int? {
    var depth = 0
    var inString = false
    var escaped = false
    var position = start
    while position < bytes.count {
      let byte = bytes[position]
      position += 1
      if byte == 0x0A { line += 1 }
      if inString {
        if escaped {
          escaped = false
        } else if byte == UInt8(ascii: "\\") {
          escaped = true
        } else if byte == UInt8(ascii: "\"") {
          inString = false
        }
        continue
      }
      switch byte {
      case UInt8(ascii: "\""): inString = true
      case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        depth -= 1
        if depth == 0 { return position }
      default: break
      }
    }
    return nil
  }
}
