import Foundation

/// The 202 body: how many records of the batch were taken, and how many were refused on purpose
/// (an erased customer's) while the rest landed. `{"accepted":25}` or `{"accepted":20,"refused":5}`:
/// `refused` is left out when nothing was refused.
public struct IngestAcknowledgement: Sendable, Equatable, Codable {
  /// Records acknowledged: they are in the write-ahead log and will land.
  public var accepted: Int
  /// Records refused without failing the batch (nil, and absent on the wire, when none were).
  public var refused: Int?

  /// An acknowledgement; a `refused` of 0 is stored as nil (the wire leaves it out).
  public init(accepted: Int, refused: Int? = nil) {
    self.accepted = accepted
    self.refused = refused == 0 ? nil : refused
  }
}

/// The body of every 4xx and 503 answer to a POST:
/// `{"error":"…","field":"…","line":3,"reason":"…","record":3}`; `field`, `line` and `record` only
/// when known.
/// The HTTP status is the response's own, not in the body (see `IngestRejection`).
public struct IngestErrorBody: Sendable, Equatable, Codable {
  /// What was wrong, in words (`IngestRejection.message`).
  public var error: String
  /// A short label (`invalid_json`, `wrong_serial`, `buffers_full`, …), as in the metrics.
  public var reason: String
  /// The 1-based line of the body where the offending record starts.
  public var line: Int?
  /// The 1-based position of the offending record in the body.
  public var record: Int?
  /// The field at fault.
  public var field: String?

  /// A body.
  public init(error: String, reason: String, line: Int? = nil, record: Int? = nil, field: String? = nil) {
    self.error = error
    self.reason = reason
    self.line = line
    self.record = record
    self.field = field
  }
}

/// The `/healthz` body: `{…figures,"status":"ok"}` with 200, or
/// `{…figures,"error":"…","reason":"…",…,"status":"unhealthy"}` with 503 while records cannot
/// reach landing (or the log). Keys are sorted, as in every body (`IngestJSON`).
public struct IngestHealth: Sendable, Equatable, Codable {
  /// `ok` or `unhealthy`.
  public var status: String
  /// Why the service is unhealthy (`landing_failing`, `log_unavailable`); unhealthy only.
  public var reason: String?
  /// The last error behind `reason`, possibly empty; unhealthy only.
  public var error: String?
  /// Bytes of acknowledged records buffered or being landed.
  public var bufferedBytes: Int
  /// Bytes reserved against the memory budget (bodies being read, batches being built).
  public var reservedBytes: Int
  /// Batches sealed but not yet in landing.
  public var batchesLanding: Int
  /// Batches whose last landing attempt failed (they are being retried).
  public var batchesFailing: Int

  /// A health report; `problem` nil is healthy.
  public init(
    problem: String? = nil, error: String? = nil, bufferedBytes: Int, reservedBytes: Int, batchesLanding: Int,
    batchesFailing: Int
  ) {
    status = problem == nil ? "ok" : "unhealthy"
    reason = problem
    self.error = problem == nil ? nil : (error ?? "")
    self.bufferedBytes = bufferedBytes
    self.reservedBytes = reservedBytes
    self.batchesLanding = batchesLanding
    self.batchesFailing = batchesFailing
  }

  /// Whether the service said it is healthy.
  public var isHealthy: Bool { status == "ok" }
}

/// JSON as the service writes it and the clients read it: keys sorted (so the same value is always
/// the same bytes: JSONEncoder's own order changes from run to run), slashes not escaped, no spaces.
public enum IngestJSON {
  /// The encoded bytes of `value`.
  public static func encode(_ value: some Encodable) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // These types hold only strings and integers: encoding cannot fail.
    return Array(try! encoder.encode(value))
  }

  /// The encoded text of `value`.
  public static func string(_ value: some Encodable) -> String {
    String(decoding: encode(value), as: UTF8.self)
  }

  /// `bytes` decoded as `type`.
  public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
    try JSONDecoder().decode(type, from: Data(bytes))
  }
}
