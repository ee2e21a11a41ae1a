/// The ingest service's write-ahead log: payloads appended here are durable when `append` returns.
///
/// The service acknowledges a request only after its records are in this log, batches them in
/// memory, and later writes landing files; on restart it replays the log. Payloads are opaque
/// bytes: the service encodes its own entry kinds inside them.
///
/// ## Files
///
/// A directory (created with mode 0700 if missing) of segment files named after the LSN of their
/// first record, `wal-<20 digits>.log`, so sorting names sorts records. LSNs (log sequence numbers)
/// start at 1 and are consecutive across segments. Once a segment passes `segmentBytes`, the next
/// group of records starts a new one; a group is never split, so a segment can exceed the size by
/// one group. `releaseSegments(through:)` deletes segments whose records have all been landed.
///
/// ## Record format
///
/// Each record is a 20-byte header, little-endian, followed by the payload:
///
///     offset  size  field
///          0     4  magic 0x314C4157 (the bytes "WAL1")
///          4     4  payload length n (at most 256 MiB)
///          8     8  LSN
///         16     4  CRC-32C (Castagnoli) of bytes 0..<16, then of the payload
///         20     n  payload
///
/// The checksum covers the length and the LSN as well as the payload, so a torn or corrupted
/// header is caught as surely as a damaged payload; the LSN, which must equal the segment's name
/// plus the record's position, catches a record that is intact but in the wrong place.
///
/// ## Durability
///
/// One thread does all writing. Concurrent appends are gathered into a group, written with one
/// `write`, and made durable with one `fdatasync`, which returns only when the data and the
/// metadata needed to read it (the file length) are on stable storage, the drive's volatile cache
/// flushed too. Only then does `append` return. A new segment file's directory entry is synced
/// before any record in it is acknowledged (and a deleted one's after deletion), so the file
/// itself cannot vanish. Hence:
///
/// - kill -9: whatever `write` handed to the kernel survives the process, acknowledged or not.
/// - Power loss: every acknowledged record was covered by a completed fdatasync, so it is on the
///   disk as written; the checksum proves it on reading.
///
/// What a crash can leave damaged is only what had not been synced: the group being written when it
/// happened. Groups are written strictly one after another, each synced before the next begins, so
/// that group is at the end of the last segment: a torn tail, cut anywhere, or with pages that
/// never reached the disk (zeros, old contents, any order). None of it was acknowledged, so
/// dropping it breaks no promise: the client got no 202 and will send it again. `open` reports
/// that tail and truncates it, so start-up never blocks and new records follow the last valid one
/// in the same segment.
///
/// Damage anywhere else (earlier in the last segment, with intact records after it, or in an older
/// segment) hit data that had been synced, so it is not a torn write but corruption: it is reported
/// with its segment, offset and the count of intact records skipped, the rest of that segment is
/// skipped, reading goes on with the next segment, and the file is left as it is for inspection.
/// If it is the last segment, new records go to a fresh segment instead. LSNs of intact records
/// anywhere on disk are never handed out again.
///
/// A failed `write` is cut off again with ftruncate and the appends in that group fail; a later
/// append may succeed (a full disk may get space). A failed fdatasync fails that group and every
/// later append: Linux may have dropped the unsynced pages and cleared the error, so a retried sync
/// could "succeed" without the data. Reopening the log reads what really is on disk. Records of a
/// failed append may or may not be found after a restart; they were not acknowledged.
///
/// One `WriteAheadLog` per directory: nothing stops two processes from opening the same one.
public final class WriteAheadLog: Sendable {
  /// The size past which a segment is closed and a new one started.
  public static let defaultSegmentBytes = 64 << 20

  /// The largest payload one record may hold.
  public static let maxPayloadBytes = WALRecordFormat.maxPayloadBytes

  /// The directory holding the segment files.
  public let directory: String

  /// The size past which a segment is closed and a new one started.
  public let segmentBytes: Int

  private let writer: WALWriter

  private init(directory: String, segmentBytes: Int, writer: WALWriter) {
    self.directory = directory
    self.segmentBytes = segmentBytes
    self.writer = writer
  }

  deinit {
    // A log dropped without close still stops its thread (after answering anything queued).
    writer.stop()
  }

  /// Opens (or creates) the log in `directory`, returning it with the records to replay.
  ///
  /// Reads every segment in order; see the type's documentation for what happens to damage.
  /// Blocks while reading, which is what start-up needs anyway.
  public static func open(
    directory: String, segmentBytes: Int = defaultSegmentBytes
  ) throws(WALError) -> (log: WriteAheadLog, recovery: WALRecovery) {
    precondition(segmentBytes > 0, "segmentBytes must be positive")
    try WALFileSystem.makeDirectory(directory)
    let outcome = try WALRecoveryScanner.scan(directory: directory)
    var segments = outcome.segments
    var statistics = WALStatistics()
    let fd: Int32
    if outcome.appendToLastSegment, let last = segments.last {
      fd = try WALFileSystem.openSegmentForAppend(last.path)
    } else {
      let path = WALSegment.path(in: directory, firstLSN: outcome.recovery.nextLSN)
      fd = try WALFileSystem.createSegment(path)
      do throws(WALError) {
        try WALFileSystem.syncDirectory(directory)
      } catch {
        WALFileSystem.closeFile(fd)
        throw error
      }
      segments.append(WALSegment(firstLSN: outcome.recovery.nextLSN, path: path, size: 0))
      statistics.segmentsCreated = 1
    }
    let writer = WALWriter(
      directory: directory, segmentBytes: segmentBytes, segments: segments, nextLSN: outcome.recovery.nextLSN,
      activeFD: fd, statistics: statistics)
    writer.start()
    return (WriteAheadLog(directory: directory, segmentBytes: segmentBytes, writer: writer), outcome.recovery)
  }

  /// Appends payloads as consecutive records; returns the first one's LSN once all are synced.
  ///
  /// Concurrent calls are written and synced together (group commit). An empty array writes
  /// nothing and returns the LSN the next record will get. Cancelling the task does not withdraw
  /// the payloads: once queued, they are written, and the call waits for that.
  @discardableResult
  public func append(_ payloads: [[UInt8]]) async throws(WALError) -> UInt64 {
    try await append(payloads.map { WALPayload(body: $0) })
  }

  /// Appends payloads given in two parts each (see `WALPayload`) as consecutive records; the
  /// same as `append(_:)` of the parts joined.
  @discardableResult
  public func append(_ payloads: [WALPayload]) async throws(WALError) -> UInt64 {
    for payload in payloads where payload.count > WALRecordFormat.maxPayloadBytes {
      throw .payloadTooLarge(bytes: payload.count, limit: WALRecordFormat.maxPayloadBytes)
    }
    if payloads.isEmpty {
      if writer.isClosing { throw .closed(directory: directory) }
      return writer.nextLSN
    }
    return try await writer.append(payloads).get()
  }

  /// Appends one payload as a record; returns its LSN once it is synced.
  @discardableResult
  public func append(_ payload: [UInt8]) async throws(WALError) -> UInt64 {
    try await append([payload])
  }

  /// Deletes the segment files all of whose records have LSNs up to `lsn`; returns how many.
  ///
  /// The service calls it once those records are safely in landing storage. The segment currently
  /// appended to is never deleted (its name carries the next LSN across a restart). The directory
  /// is synced after deleting; until then a power loss can bring deleted segments back, and their
  /// records are replayed once more, which the service must (and does) tolerate anyway.
  @discardableResult
  public func releaseSegments(through lsn: UInt64) async throws(WALError) -> Int {
    try await writer.release(through: lsn).get()
  }

  /// Closes the segment being appended to (unless it is empty) and starts a new one, after the
  /// appends queued before; true when it rotated.
  ///
  /// The segment appended to is never released, so records in it stay on disk until it rotates;
  /// the service rotates early when an erasure must take records out of the log.
  @discardableResult
  public func rotate() async throws(WALError) -> Bool {
    try await writer.rotate().get()
  }

  /// Waits for queued appends and releases to finish, then stops the writer thread.
  ///
  /// Appends after (or racing with) close throw `WALError.closed`. Calling it again does nothing.
  public func close() async {
    await writer.close()
  }

  /// The LSN the next appended record will get.
  public var nextLSN: UInt64 { writer.nextLSN }

  /// The total size of the segment files in bytes.
  public var sizeBytes: Int { writer.sizeBytes }

  /// The number of segment files.
  public var segmentCount: Int { writer.segmentCount }

  /// Running totals since opening: appends, records, bytes, syncs, segments.
  public var statistics: WALStatistics { writer.statistics }
}
