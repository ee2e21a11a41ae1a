import IngestAPI
import Lakehouse

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
    try forEachRecord(in: body.bindMemory(to: UInt8.self)) { (record, line, index) throws(IngestRejection) in
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

    /// Whether a record of `email` belongs to an erased customer.
    mutating func refuses(email: String, token: AccessToken) -> Bool {
      token.role == .user ? subjectErased : matcher.isErased(email: email)
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
      while position < bytes.count {
        var end = position
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        var trimmedEnd = end
        while trimmedEnd > position, [0x20, 0x09, 0x0D].contains(bytes[trimmedEnd - 1]) { trimmedEnd -= 1 }
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
