import StepTrainerFirmware
import StepTrainerProtocol
import Testing

/// The ring buffer while the host is away: bounded, oldest dropped, drops reported (PROTOCOL.md 4.5).
@Suite struct BufferTests {
  @Test func overflowDropsTheOldestAndReportsTheCountInHeartbeatAndFault() {
    var host = TestHost()
    // 30 s at 10 Hz without a host: 300 samples for 256 places.
    host.run(until: 30_050, stepMs: 5)
    #expect(host.firmware.samplesTaken == 300)
    #expect(host.firmware.bufferedCount == 256)
    #expect(host.firmware.droppedCount == 44)
    _ = host.take()
    host.connect()
    host.keepAlive = true
    host.run(forMs: 2000)
    // The 44 oldest are gone; the rest arrive in order with no gap, then live ones.
    let indexes = host.readings.map(\.index)
    #expect(indexes.first == 44)
    #expect(indexes == Array(44..<UInt32(44 + indexes.count)))
    #expect(indexes.count == 256 + 20)
    #expect(indexes.last == 319)
    // Backlog in full batches of 45 (and the rest), oldest first.
    let batches = host.messages.compactMap { if case .readingBatch(let b) = $0 { b } else { nil } }
    #expect(batches.first?.count == 45)
    #expect(batches.first?.firstTimeMs == 4500)
    // One FAULT bufferOverflow with the drop count, and heartbeats carrying it.
    #expect(host.faults.count == 1)
    #expect(host.faults.first?.code == .bufferOverflow)
    #expect(host.faults.first?.detail == 44)
    #expect(host.faults.first?.deviceTimeMs == 30_000)
    #expect(!host.heartbeats.isEmpty)
    #expect(host.heartbeats.allSatisfy { $0.dropped == 44 })
  }

  @Test func aLaterOverflowIsReportedWithTheNewTotal() {
    var board = FakeBoard()
    board.storedSettings = FirmwareSettings(sampleRateCentihertz: 1600, batchSize: 45)
    var host = TestHost(board: board)
    host.run(until: 17_000, stepMs: 5)
    let firstDrops = host.firmware.droppedCount
    #expect(firstDrops == 16)
    host.connect()
    host.run(forMs: 100)
    // The host goes away: the link times out and the ring fills again.
    host.run(forMs: 25_000, stepMs: 5)
    #expect(host.firmware.state == .waiting)
    #expect(host.firmware.droppedCount > firstDrops)
    host.connect(sessionId: 99)
    host.run(forMs: 100)
    #expect(host.faults.map(\.code) == [.bufferOverflow, .bufferOverflow])
    #expect(host.faults.map(\.detail) == [firstDrops, host.firmware.droppedCount])
  }

  @Test(arguments: [(1000, 45), (100, 45), (1600, 5), (1600, 45), (333, 2)] as [(UInt16, UInt8)])
  func aPartFilledBatchLeavesWithin250MsOfItsFirstReading(rateCentihertz: UInt16, batchSize: UInt8) {
    var board = FakeBoard()
    board.storedSettings = FirmwareSettings(sampleRateCentihertz: rateCentihertz, batchSize: batchSize)
    var host = TestHost(board: board)
    host.connect()
    host.keepAlive = true
    host.run(forMs: 20_000)
    // Each reading arrives at most 250 ms (plus the 1 ms of the host's step) after it was taken.
    for (message, _, atMs) in host.received {
      for reading in TestHost.readings(in: [message]) {
        #expect(atMs - reading.deviceTimeMs <= StepTrainerFirmware<FakeBoard>.maxBatchAgeMs + 1)
      }
    }
    // Batches are as full as that allows: never more than the batch size, and the buffer never
    // holds more than a batch's worth.
    let batches = host.messages.compactMap { if case .readingBatch(let b) = $0 { b } else { nil } }
    #expect(batches.allSatisfy { $0.count <= Int(batchSize) })
    #expect(host.heartbeats.allSatisfy { $0.buffered <= batchSize })
    let perBatch = Int(250 * UInt64(rateCentihertz) / 100_000) + 1
    if Int(batchSize) > 1 && perBatch > 1 { #expect(batches.contains { $0.count == min(Int(batchSize), perBatch) }) }
    #expect(host.readings.map(\.index) == Array(0..<UInt32(host.readings.count)))
    #expect(host.readings.count >= Int(UInt64(rateCentihertz) * 19_000 / 100_000))
  }

  @Test func aBatchNeverSpansARateChange() {
    var board = FakeBoard()
    board.storedSettings = FirmwareSettings(sampleRateCentihertz: 1600, batchSize: 45)
    var host = TestHost(board: board)
    host.connect()
    host.keepAlive = true
    host.run(forMs: 2_130)
    let sequence = host.send(.configure(Configure(sampleRateCentihertz: 100)))
    host.run(forMs: 5_000)
    // Whatever was buffered went out before the ACK, at the old spacing; after it, only the new.
    guard let ackAt = host.messages.firstIndex(where: { if case .ack = $0 { true } else { false } }) else {
      Issue.record("no ACK")
      return
    }
    #expect(host.acks == [Ack(answeredType: MessageType.configure.rawValue, answeredSequence: sequence)])
    for batch in host.messages.compactMap({ if case .readingBatch(let b) = $0 { b } else { nil } }) {
      let spacings = Set((1..<batch.count).map { batch[$0].deviceTimeMs - batch[$0 - 1].deviceTimeMs })
      #expect(spacings.isSubset(of: [62, 63]) || spacings.isSubset(of: [1000]))
    }
    let before = TestHost.readings(in: Array(host.messages[..<ackAt]))
    let after = TestHost.readings(in: Array(host.messages[ackAt...]))
    #expect(before.last.map { $0.deviceTimeMs <= 2_130 } == true)
    #expect(zip(after, after.dropFirst()).allSatisfy { $1.deviceTimeMs - $0.deviceTimeMs == 1000 })
    #expect((before + after).map(\.index) == Array(0..<UInt32(before.count + after.count)))
  }
}
