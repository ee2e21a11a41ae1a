/// One segment's bytes read as consecutive records, up to the first one that is not valid.
///
/// Past that point nothing is returned, but the rest is searched for records that are still intact:
/// none means a torn tail (a write cut short), some mean corruption of data that had been synced.
struct WALSegmentScan {
  /// The valid records, in order.
  private(set) var records: [WALRecord] = []
  /// Where the valid records end: the length to truncate a torn tail to.
  private(set) var validBytes = 0
  /// Where reading stopped and why; nil when the whole segment is valid.
  private(set) var damage: (offset: Int, reason: WALDamage.Reason)?
  /// Records with a valid checksum found after the damage.
  private(set) var intactRecordsAfterDamage = 0
  /// The highest LSN of any intact record, returned or not (0 when there is none), so that LSNs
  /// which may have been acknowledged are never handed out again.
  private(set) var highestLSN: UInt64 = 0

  init(bytes: UnsafeBufferPointer<UInt8>, firstLSN: UInt64) {
    var offset = 0
    var expected = firstLSN
    reading: while offset < bytes.count {
      switch WALRecordFormat.decode(bytes, at: offset) {
      case .damaged(let reason):
        damage = (offset, reason)
        countIntactRecords(bytes, from: offset + 1)
        break reading
      case .record(let lsn, let payload, let end):
        guard lsn == expected else {
          damage = (offset, .lsnOutOfSequence(expected: expected, found: lsn))
          intactRecordsAfterDamage = 1
          highestLSN = max(highestLSN, lsn)
          countIntactRecords(bytes, from: end)
          break reading
        }
        records.append(WALRecord(lsn: lsn, payload: Array(bytes[payload])))
        highestLSN = max(highestLSN, lsn)
        expected &+= 1
        offset = end
      }
    }
    validBytes = offset
  }

  /// Searches byte by byte for records with a valid checksum; a magic number inside a payload is
  /// not enough, as the checksum must match as well.
  private mutating func countIntactRecords(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) {
    var offset = start
    while offset + WALRecordFormat.headerBytes <= bytes.count {
      if case .record(let lsn, _, let end) = WALRecordFormat.decode(bytes, at: offset) {
        intactRecordsAfterDamage += 1
        highestLSN = max(highestLSN, lsn)
        offset = end
      } else {
        offset += 1
      }
    }
  }
}
