import StepTrainerProtocol
import StepTrainerSimulator
import Testing

@Suite("Readings: rate, buffering, batching, overflow")
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

  @Test("the sample rate holds within 1% over 60 simulated seconds", arguments: [100, 333, 1000, 1250, 1600])
  func sampleRate(centihertz: Int) {
    var bench = TestBench(SimulatorOptions(sampleRateCentihertz: UInt16(centihertz)))
    bench.keepAlive = true
    bench.connect()
    bench.run(until: 60_000, stepMs: 7)
    let samples = bench.device.log.samples
    let expected = Double(centihertz) * 60 / 100
    #expect(abs(Double(samples.count) - expected) <= expected * 0.01)
    // Evenly spaced: no interval is off by more than the 1 ms rounding.
    let period = 100_000 / Double(centihertz)
    for (a, b) in zip(samples, samples.dropFirst()) {
      #expect(abs(Double(b.deviceTimeMs - a.deviceTimeMs) - period) < 1)
    }
    #expect(bench.readings.count == samples.count)
  }

  @Test("a valid CONFIGURE is acknowledged and its rate and batch size apply")
  func configureApplies() {
    var bench = TestBench()
    bench.keepAlive = true
    bench.connect()
    bench.run(until: 10_000)
    let sequence = bench.send(.configure(Configure(sampleRateCentihertz: 1600)))
    #expect(bench.acks == [Ack(answeredType: 0x30, answeredSequence: sequence)])
    #expect(bench.device.sampleRateCentihertz == 1600)
    bench.run(until: 20_000)
    let during = bench.device.log.samples.filter { $0.deviceTimeMs > 10_000 }
    #expect(abs(during.count - 160) <= 2)
    // Batch size alone (rate 0 keeps the rate).
    let batchSequence = bench.send(.configure(Configure(sampleRateCentihertz: 0, batchSize: 5)))
    #expect(bench.acks.last == Ack(answeredType: 0x30, answeredSequence: batchSequence))
    #expect(bench.device.sampleRateCentihertz == 1600)
    let mark = bench.received.count
    bench.run(until: 25_000)
    let batches = bench.messages(after: mark).compactMap { if case .readingBatch(let b) = $0 { b } else { nil } }
    let singles = bench.messages(after: mark).filter { if case .reading = $0 { true } else { false } }
    #expect(singles.isEmpty)
    #expect(batches.count == 16)
    #expect(batches.allSatisfy { $0.count == 5 })
    // A reconnecting host learns the rate from HELLO.
    bench.connect()
    #expect(bench.hellos.last?.sampleRateCentihertz == 1600)
    #expect(bench.readings.map(\.index) == Array(0..<UInt32(bench.readings.count)))
  }

  @Test(
    "an out-of-range CONFIGURE is refused with NACK outOfRange and changes nothing",
    arguments: [(50, 0), (99, 1), (1601, 1), (1000, 46), (0, 255)] as [(UInt16, UInt8)])
  func configureOutOfRange(rate: UInt16, batch: UInt8) {
    var bench = TestBench()
    bench.keepAlive = true
    bench.connect()
    bench.run(until: 1000)
    let sequence = bench.send(.configure(Configure(sampleRateCentihertz: rate, batchSize: batch)))
    #expect(bench.nacks == [Nack(answeredType: 0x30, answeredSequence: sequence, reason: .outOfRange)])
    #expect(bench.acks.isEmpty)
    #expect(bench.device.sampleRateCentihertz == 1000)
    #expect(bench.device.batchSize == 1)
    bench.run(until: 11_000)
    #expect(bench.device.log.samples.count == 110)
    #expect(bench.received.allSatisfy { if case .readingBatch = $0.message { false } else { true } })
  }

  @Test("CONFIGURE while waiting is refused with NACK notConnected")
  func configureWhileWaiting() {
    var bench = TestBench()
    bench.run(until: 500)
    let sequence = bench.send(.configure(Configure(sampleRateCentihertz: 1600, batchSize: 3)))
    #expect(bench.nacks == [Nack(answeredType: 0x30, answeredSequence: sequence, reason: .notConnected)])
    #expect(bench.device.sampleRateCentihertz == 1000)
    #expect(bench.device.batchSize == 1)
  }

  @Test("a full buffer drops the oldest: FAULT bufferOverflow, the count in HEARTBEAT, the newest kept")
  func overflow() {
    var bench = TestBench(SimulatorOptions(bufferCapacity: 20))
    bench.run(until: 5000)
    #expect(bench.device.droppedSinceBoot == 30)
    #expect(bench.device.counters.samplesDropped == 30)
    #expect(bench.hellos.allSatisfy { $0.bufferCapacity == 20 })
    let mark = bench.received.count
    bench.connect()
    let answer = bench.messages(after: mark)
    guard answer.count >= 3, case .fault(let fault) = answer[1] else {
      Issue.record("expected HELLO, FAULT, readings; got \(answer)")
      return
    }
    #expect(fault.code == .bufferOverflow)
    #expect(fault.detail == 30)
    #expect(fault.deviceTimeMs == 5000)
    #expect(TestBench.readings(in: answer).map(\.index) == Array(30..<50))
    bench.keepAlive = true
    bench.run(until: 6000)
    #expect(bench.heartbeats.last == Heartbeat(timeMs: 6000, state: .connected, buffered: 0, dropped: 30))
    #expect(bench.faults.count == 1)
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
