import StepTrainerProtocol
import StepTrainerSimulator
import Testing

@Suite("Readings against the truth, and the host's port")
struct StreamingTests {
  @Test("readings buffered while waiting are sent after CONNECT, oldest first, in full batches")
  func bufferedDrainedOldestFirst() {
    var bench = TestBench()
    bench.run(until: 6000)
    #expect(bench.device.bufferedCount == 60)
    let mark = bench.received.count
    bench.connect()
    let answer = bench.messages(after: mark)
    #expect(answer.count == 3)
    guard answer.count == 3, case .hello = answer[0], case .readingBatch(let first) = answer[1],
      case .readingBatch(let second) = answer[2]
    else {
      Issue.record("expected HELLO and two READING_BATCHes, got \(answer)")
      return
    }
    #expect(first.firstIndex == 0 && first.count == 45)
    #expect(second.firstIndex == 45 && second.count == 15)
    let truth = bench.device.log.samples
    #expect(bench.readings.map { GeneratedSample(reading: $0, bootId: bench.device.bootId) } == truth)
    #expect(truth.map(\.deviceTimeMs) == (1...60).map { UInt64($0) * 100 })
    #expect(bench.device.bufferedCount == 0)
    // Then live readings, one READING each.
    bench.keepAlive = true
    let live = bench.received.count
    bench.run(until: 6300)
    let next = bench.messages(after: live).compactMap { if case .reading(let r) = $0 { r.index } else { nil } }
    #expect(next == [60, 61, 62])
  }

  @Test("while the host's port is closed nothing is sent and readings wait; reopened, 0x00 then the backlog")
  func portClosed() {
    var bench = TestBench()
    bench.keepAlive = true
    bench.connect()
    bench.run(until: 2000)
    bench.device.isHostPortOpen = false
    bench.keepAlive = false
    let sent = bench.wire.count
    bench.run(until: 3500)
    #expect(bench.wire.count == sent)
    #expect(bench.device.bufferedCount == 15)
    bench.device.isHostPortOpen = true
    let mark = bench.received.count
    bench.send(.heartbeat(Heartbeat(timeMs: 0, state: .connected)))
    #expect(bench.wire[sent] == 0)
    let backlog = TestBench.readings(in: bench.messages(after: mark))
    #expect(backlog.map(\.index) == Array(20..<35))
    #expect(bench.readings.map(\.index) == Array(0..<35))
  }
}
