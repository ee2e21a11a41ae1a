/// Reads a log directory at open: every valid record in LSN order, every damage on the way, the
/// torn tail cut off, and where appending continues.
enum WALRecoveryScanner {
  /// What `scan` found and decided.
  struct Outcome {
    var recovery: WALRecovery
    /// Every segment file, sizes as they are after any truncation.
    var segments: [WALSegment]
    /// Whether new records go at the end of the last segment. If not, they go to a fresh segment
    /// named after `recovery.nextLSN`, so a segment holding corrupt synced data stays untouched.
    var appendToLastSegment: Bool
  }

  /// Reads every segment of `directory`, in order.
  ///
  /// Damage in the last segment with no intact record after it is a torn tail (see
  /// `WriteAheadLog`): it is reported, then cut off so new records follow the last valid one.
  /// Any other damage is reported and the rest of that segment skipped, but left on disk.
  static func scan(directory: String) throws(WALError) -> Outcome {
    var segments = try WALFileSystem.listSegments(in: directory)
    var records: [WALRecord] = []
    var damage: [WALDamage] = []
    var lastReturned: UInt64 = 0  // 0: none yet (LSNs start at 1)
    var highestSeen: UInt64 = 0
    var expectedFirstLSN: UInt64?  // what the next segment starts with if nothing is missing
    var previousDamaged = false
    var appendToLast = false
    var validInLast = 0

    for index in segments.indices {
      let segment = segments[index]
      let isLast = index == segments.count - 1
      let bytes = try WALFileSystem.readAll(segment.path)
      segments[index].size = bytes.count
      let scan = bytes.withUnsafeBufferPointer { WALSegmentScan(bytes: $0, firstLSN: segment.firstLSN) }
      highestSeen = max(highestSeen, scan.highestLSN)
      appendToLast = false
      validInLast = 0

      // A segment whose name claims LSNs already returned cannot be placed in the sequence.
      if lastReturned > 0 && segment.firstLSN <= lastReturned {
        damage.append(
          WALDamage(
            segment: segment.path, offset: 0,
            reason: .lsnOutOfSequence(expected: lastReturned + 1, found: segment.firstLSN),
            bytesSkipped: bytes.count, intactRecordsSkipped: scan.records.count + scan.intactRecordsAfterDamage,
            truncated: false))
        previousDamaged = true
        continue
      }
      // A gap after a damaged segment is that damage's doing, already reported; one between two
      // intact segments means a segment file went missing.
      if let expected = expectedFirstLSN, !previousDamaged, segment.firstLSN > expected {
        damage.append(
          WALDamage(
            segment: segment.path, offset: 0,
            reason: .missingRecords(from: expected, through: segment.firstLSN - 1),
            bytesSkipped: 0, intactRecordsSkipped: 0, truncated: false))
      }

      records.append(contentsOf: scan.records)
      lastReturned = scan.records.last?.lsn ?? lastReturned
      expectedFirstLSN = segment.firstLSN + UInt64(scan.records.count)
      previousDamaged = false
      appendToLast = true
      validInLast = scan.records.count

      if let found = scan.damage {
        let tornTail = isLast && scan.intactRecordsAfterDamage == 0
        if tornTail {
          try WALFileSystem.truncateAndSync(segment.path, to: scan.validBytes)
          segments[index].size = scan.validBytes
        } else {
          previousDamaged = true
          appendToLast = false
        }
        damage.append(
          WALDamage(
            segment: segment.path, offset: found.offset, reason: found.reason,
            bytesSkipped: bytes.count - scan.validBytes, intactRecordsSkipped: scan.intactRecordsAfterDamage,
            truncated: tornTail))
      }
    }

    // Never hand out an LSN that an intact record on disk already has, nor one below the last
    // segment's name (a segment's records must start at the LSN it is named after).
    var nextLSN = max(lastReturned + 1, highestSeen + 1, segments.last?.firstLSN ?? 1)
    if let last = segments.last {
      if appendToLast && last.firstLSN + UInt64(validInLast) != nextLSN { appendToLast = false }
      // The fresh segment must not take the name of the one it replaces.
      if !appendToLast && last.firstLSN == nextLSN { nextLSN += 1 }
    }
    return Outcome(
      recovery: WALRecovery(records: records, damage: damage, nextLSN: nextLSN),
      segments: segments, appendToLastSegment: appendToLast)
  }
}
