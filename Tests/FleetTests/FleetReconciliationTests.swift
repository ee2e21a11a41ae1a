import Testing

@testable import Fleet

/// A run's totals against what landed: missing, unexpected beyond the ambiguous, refusals by reason.
@Suite struct FleetReconciliationTests {
  static let totals: [FleetPlan.DeviceKind: DeviceTotals] = {
    var trainers = DeviceTotals()
    trainers.acknowledged = 100
    trainers.ambiguous = 3
    trainers.refused = ["wrong_serial": 4]
    var phones = DeviceTotals()
    phones.acknowledged = 50
    phones.refused = ["wrong_serial": 1, "erased": 2]
    return [.stepTrainer: trainers, .phone: phones]
  }()

  @Test func everythingLandedIsBalanced() {
    let result = FleetReconciliation(totals: Self.totals, landed: 150)
    #expect(result.readingsAcknowledged == 150)
    #expect(result.readingsRefused == 7)
    #expect(result.refusedByReason == ["wrong_serial": 5, "erased": 2])
    #expect(result.missing == 0 && result.unexpected == 0)
    #expect(result.balanced)
  }

  @Test func extraReadingsOfAmbiguousRequestsAreExpected() {
    let result = FleetReconciliation(totals: Self.totals, landed: 153)
    #expect(result.unexpected == 0)
    #expect(result.balanced)
    #expect(FleetReconciliation(totals: Self.totals, landed: 154).unexpected == 1)
  }

  @Test func missingReadingsUnbalanceTheRun() {
    let result = FleetReconciliation(totals: Self.totals, landed: 149)
    #expect(result.missing == 1)
    #expect(!result.balanced)
  }

  @Test func shardsParseOnlyWithinTheirCount() {
    let shard = FleetPlan.shard(parsing: "2/3")
    #expect(shard?.index == 2 && shard?.count == 3)
    for bad in ["0/3", "4/3", "1/0", "1", "a/b", "1/2/3"] { #expect(FleetPlan.shard(parsing: bad) == nil, "\(bad)") }
  }
}
