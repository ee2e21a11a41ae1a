/// One stretch of a segment file that could not be read as records, and what open did about it.
public struct WALDamage: Sendable, Equatable, CustomStringConvertible {
  /// Why the bytes at `offset` are not a valid record.
  public enum Reason: Sendable, Equatable, CustomStringConvertible {
    /// Fewer bytes than a record header remain.
    case truncatedHeader
    /// The header promises more payload bytes than remain.
    case truncatedPayload
    /// The bytes do not start with the record magic number.
    case badMagic
    /// The header's payload length exceeds what a record may hold.
    case implausibleLength(UInt32)
    /// The CRC-32C over the header fields and payload does not match the stored one.
    case checksumMismatch
    /// An intact record carries another LSN than the one that must come next.
    case lsnOutOfSequence(expected: UInt64, found: UInt64)
    /// No segment holds the LSNs `from...through` although the segments around them are intact.
    case missingRecords(from: UInt64, through: UInt64)

    public var description: String {
      switch self {
      case .truncatedHeader: "truncated header"
      case .truncatedPayload: "truncated payload"
      case .badMagic: "bad magic number"
      case .implausibleLength(let length): "implausible payload length \(length)"
      case .checksumMismatch: "checksum mismatch"
      case .lsnOutOfSequence(let expected, let found): "LSN out of sequence (expected \(expected), found \(found))"
      case .missingRecords(let from, let through): "missing records: no segment holds LSNs \(from)...\(through)"
      }
    }
  }

  /// Path of the segment file.
  public var segment: String
  /// Byte offset in the segment where the damage starts (the end of the last valid record).
  public var offset: Int
  /// Why the bytes there are not a valid record.
  public var reason: Reason
  /// Bytes from `offset` to the end of the segment that were not read as records.
  public var bytesSkipped: Int
  /// Well-formed records (valid checksum) found inside the skipped bytes and not returned.
  ///
  /// Zero for a torn tail. Non-zero means corruption of data that had been synced, which an
  /// operator may want to inspect: such segments are left as they are, never truncated.
  public var intactRecordsSkipped: Int
  /// Whether the skipped bytes were cut off the file (only a torn tail of the last segment is).
  public var truncated: Bool

  /// A damage report (made by `WriteAheadLog.open`; public so that tests can state what they expect).
  public init(
    segment: String, offset: Int, reason: Reason, bytesSkipped: Int, intactRecordsSkipped: Int, truncated: Bool
  ) {
    self.segment = segment
    self.offset = offset
    self.reason = reason
    self.bytesSkipped = bytesSkipped
    self.intactRecordsSkipped = intactRecordsSkipped
    self.truncated = truncated
  }

  public var description: String {
    var text = "\(segment) at byte \(offset): \(reason); skipped \(bytesSkipped) bytes"
    if intactRecordsSkipped > 0 { text += " holding \(intactRecordsSkipped) intact records" }
    text += truncated ? ", cut off as a torn tail" : ", left in place"
    return text
  }
}
