import StepTrainerFirmware
import StepTrainerProtocol
import Testing

/// The sample clock and the sensor filter: median of three, honest statuses (PROTOCOL.md 5.4).
@Suite struct SamplingTests {
  @Test(arguments: [100, 1000, 1600] as [UInt16])
  func sampleRateIsWithinOnePercentOverSixtySeconds(rateCentihertz: UInt16) {
    var board = FakeBoard()
    board.storedSettings = FirmwareSettings(sampleRateCentihertz: rateCentihertz, batchSize: 1)
    var host = TestHost(board: board)
    host.connect()
    host.keepAlive = true
    host.run(until: 60_000, stepMs: 1)
    let expected = Double(rateCentihertz) / 100 * 60
    let readings = host.readings.filter { $0.deviceTimeMs <= 60_000 }
    #expect(abs(Double(readings.count) - expected) <= expected * 0.01, "\(readings.count) samples, \(expected) due")
    // Three measurements per sample, no more.
    #expect(host.firmware.board.measurements == 3 * Int(host.firmware.samplesTaken))
    // Intervals never stray more than a millisecond from the period.
    let period = 100_000 / Double(rateCentihertz)
    for (a, b) in zip(readings, readings.dropFirst()) {
      #expect(abs(Double(b.deviceTimeMs - a.deviceTimeMs) - period) <= 1)
    }
  }

  @Test func aLoopThatFallsBehindSkipsSlotsInsteadOfBursting() {
    var host = TestHost()
    host.connect()
    host.keepAlive = true
    // Polled only every 250 ms: at 10 Hz most slots are missed, and no two samples share a time.
    host.device.loopPeriodMs = 250
    host.run(until: 10_000, stepMs: 250)
    let times = host.readings.map(\.deviceTimeMs)
    #expect(Set(times).count == times.count)
    #expect(times.count == 40)
  }

  @Test func theMedianOfThreeIgnoresOneOutlier() {
    var board = FakeBoard()
    board.scriptedEchoes = [
      5831, 60_000, 5889,  // a far stray echo
      100, 5831, 5860,  // a near one
      5831, nil, 5889,  // one lost echo: the other two decide
    ]
    var host = TestHost(board: board)
    host.connect()
    host.keepAlive = true
    host.run(until: 350)
    let readings = host.readings
    #expect(readings.count == 3)
    #expect(readings.map(\.distanceMm) == [1010, 1000, 1010])
    #expect(readings.allSatisfy { $0.status == .ok })
  }

  @Test func noEchoAndOutOfRangeAreReportedNeverADistance() {
    var board = FakeBoard()
    board.scriptedEchoes = [
      nil, nil, 5831,  // two lost echoes
      nil, nil, nil,
      50, 60, 70,  // 10 mm: inside the blind zone
      30_000, 30_000, 30_000,  // 5,145 mm: beyond the range
      116, 116, 116,  // 20 mm: the edge, valid
      23_324, 23_324, 23_324,  // 4,000 mm: the other edge
      23_330, 23_330, 23_330,  // 4,001 mm: just beyond
    ]
    var host = TestHost(board: board)
    host.connect()
    host.keepAlive = true
    host.run(until: 750)
    let readings = host.readings.map { DistanceSample(distanceMm: $0.distanceMm, status: $0.status) }
    #expect(
      readings == [
        DistanceSample(distanceMm: 0, status: .noEcho),
        DistanceSample(distanceMm: 0, status: .noEcho),
        DistanceSample(distanceMm: 10, status: .outOfRange),
        DistanceSample(distanceMm: 5145, status: .outOfRange),
        DistanceSample(distanceMm: 20, status: .ok),
        DistanceSample(distanceMm: 4000, status: .ok),
        DistanceSample(distanceMm: 4001, status: .outOfRange),
      ])
  }

  @Test func filterArithmetic() {
    #expect(DistanceSample.median(1, 2, 3) == DistanceSample.fromEcho(microseconds: 2))
    #expect(DistanceSample.median(3, 1, 2) == DistanceSample.fromEcho(microseconds: 2))
    #expect(DistanceSample.median(2, 3, 1) == DistanceSample.fromEcho(microseconds: 2))
    #expect(DistanceSample.median(nil, 5831, nil) == DistanceSample(distanceMm: 0, status: .noEcho))
    #expect(DistanceSample.median(5831, 5831, nil) == DistanceSample(distanceMm: 1000, status: .ok))
    #expect(DistanceSample.fromEcho(microseconds: .max) == DistanceSample(distanceMm: .max, status: .outOfRange))
    #expect(DistanceSample.fromEcho(microseconds: 0) == DistanceSample(distanceMm: 0, status: .outOfRange))
  }
}
