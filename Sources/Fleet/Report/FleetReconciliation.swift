/// The fleet's count of readings against what landed in the lake, once the ingest service has flushed.
public struct FleetReconciliation: Sendable, Codable, Equatable {
  /// Readings the service acknowledged to this fleet (distinct readings, not attempts).
  public var readingsAcknowledged: Int
  /// Readings of this fleet found in the lake's landing zone.
  public var readingsLanded: Int
  /// Readings the service refused on purpose.
  public var readingsRefused: Int
  /// `readingsRefused` by reason (e.g. `wrong_serial`, `erased`).
  public var refusedByReason: [String: Int]
  /// Acknowledged but not landed: lost after the acknowledgement.
  public var missing: Int
  /// Landed but never acknowledged by this fleet.
  public var unexpected: Int
  /// Everything accounted for: acknowledged = landed, nothing missing or unexpected, and every refused reading has
  /// a reason.
  public var balanced: Bool

  /// A reconciliation whose `balanced` is computed from the counts.
  public init(
    readingsAcknowledged: Int, readingsLanded: Int, readingsRefused: Int, refusedByReason: [String: Int],
    missing: Int, unexpected: Int
  ) {
    self.readingsAcknowledged = readingsAcknowledged
    self.readingsLanded = readingsLanded
    self.readingsRefused = readingsRefused
    self.refusedByReason = refusedByReason
    self.missing = missing
    self.unexpected = unexpected
    self.balanced =
      missing == 0 && unexpected == 0 && readingsAcknowledged == readingsLanded
      && refusedByReason.values.reduce(0, +) == readingsRefused
  }

  /// The reconciliation of a run's `totals` (every device kind's) against the readings found `landed`.
  public init(totals: [FleetPlan.DeviceKind: DeviceTotals], landed: Int) {
    let acknowledged = totals.values.reduce(0) { $0 + $1.acknowledged }
    let ambiguous = totals.values.reduce(0) { $0 + $1.ambiguous }
    var refused: [String: Int] = [:]
    for total in totals.values { for (reason, count) in total.refused { refused[reason, default: 0] += count } }
    self.init(
      readingsAcknowledged: acknowledged, readingsLanded: landed, readingsRefused: refused.values.reduce(0, +),
      refusedByReason: refused, missing: max(0, acknowledged - landed),
      unexpected: max(0, landed - acknowledged - ambiguous))
    // Readings of requests that timed out may have been accepted without the device hearing it:
    // up to that many extra landed readings are expected, not unexplained.
    balanced = missing == 0 && unexpected == 0
  }
}
