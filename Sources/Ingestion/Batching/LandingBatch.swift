import Lakehouse

#if canImport(Glibc)
  import Glibc
#endif

/// A sealed batch: the log entries that make up one landing file, and that file's name.
struct LandingBatch: Sendable {
  /// The batch's identity: its first entry's log sequence number when sealed (unique within one
  /// log, and kept on replay so the file name stays the same).
  var id: UInt64
  var source: LandingSource
  /// When it was sealed; part of the file name, so recorded in the seal entry.
  var epochMilliseconds: Int64
  /// The log sequence numbers of its `records` entries, in file order.
  var entries: [UInt64]
  var ndjson: [UInt8]
  var count: Int
  /// The oldest erasure list version its records were checked against; nil when unknown (rebuilt
  /// from the log at start-up), which makes the Ingestor check them again before landing.
  var erasureVersion: UInt64?

  /// `<source>/landing/[date=YYYY-MM-DD/]<source>-<epoch-ms>-<instance>-<id>.json`.
  ///
  /// The instance id (random, kept beside the log) makes names unique across ingest processes
  /// without coordination; the log sequence number makes them unique within one, and the same
  /// on every replay of the log.
  func key(instance: String, dateFolders: Bool) -> String {
    var folder = source.landingFolder + "/"
    if dateFolders { folder += "date=\(Self.utcDate(epochMilliseconds))/" }
    return "\(folder)\(source.rawValue)-\(epochMilliseconds)-\(instance)-\(id).json"
  }

  static func utcDate(_ epochMilliseconds: Int64) -> String {
    var seconds = time_t(epochMilliseconds / 1000)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    let year = Int(parts.tm_year) + 1900
    let month = Int(parts.tm_mon) + 1
    let day = Int(parts.tm_mday)
    return "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
  }

  /// The batch without the lines of erased customers, and how many lines were left out.
  ///
  /// Every other line is kept byte for byte, so the file is what it would have been had those
  /// records been refused at the door. A line that does not decode (none should: the service
  /// rendered them) is kept unless it mentions an erased email or serial number anywhere.
  func withoutErased(_ matcher: ErasureMatcher) -> (batch: LandingBatch, refused: Int) {
    var matcher = matcher
    guard let outcome = matcher.removingErased(from: ndjson, source: source) else { return (self, 0) }
    var filtered = self
    filtered.ndjson = outcome.ndjson
    filtered.count = outcome.remaining
    return (filtered, outcome.removed)
  }
}

/// The records of one source waiting to be sealed into a batch.
struct SourceBuffer {
  var entries: [UInt64] = []
  /// The requests' NDJSON as they arrived, joined only when the batch is sealed: appending each
  /// to one growing array copied every byte twice more (the append and the array's regrowths).
  private var parts: [[UInt8]] = []
  /// The bytes in `parts`.
  private(set) var byteCount = 0
  var count = 0
  /// When the oldest buffered record arrived, for the age limit.
  var oldest: ContinuousClock.Instant?
  /// The oldest erasure list version any buffered record was checked against (nil: unknown).
  var erasureVersion: UInt64?

  var isEmpty: Bool { entries.isEmpty }

  mutating func add(
    entry: UInt64, ndjson bytes: [UInt8], count records: Int, erasureVersion version: UInt64?,
    at now: ContinuousClock.Instant
  ) {
    if entries.isEmpty {
      oldest = now
      erasureVersion = version
    } else if let known = erasureVersion {
      // Requests checked against different lists can share a buffer; the oldest one decides.
      erasureVersion = version.map { min($0, known) }
    }
    entries.append(entry)
    parts.append(bytes)
    byteCount += bytes.count
    count += records
  }

  /// The batch's NDJSON: every request's lines, in order.
  var ndjson: [UInt8] {
    var joined: [UInt8] = []
    joined.reserveCapacity(byteCount)
    for part in parts { joined += part }
    return joined
  }

  func isFull(_ limits: BatchLimits) -> Bool {
    count >= limits.maxRecords || byteCount >= limits.maxBytes
  }
}
