/// What opening a log found: the records to replay, the damage met on the way, where appends continue.
public struct WALRecovery: Sendable {
  /// Every valid record, in LSN order (consecutive except where `damage` explains a gap).
  public var records: [WALRecord]
  /// Everything that could not be read as records, in file order; empty for a cleanly written log.
  public var damage: [WALDamage]
  /// The LSN the next appended record will get.
  public var nextLSN: UInt64
}
