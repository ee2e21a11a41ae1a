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

  @Test func heartbeatsReportBufferedReadingsWhileBatching() {
    var board = FakeBoard()
    board.storedSettings = FirmwareSettings(sampleRateCentihertz: 1000, batchSize: 45)
    var host = TestHost(board: board)
    host.connect()
    host.keepAlive = true
    host.run(forMs: 10_000)
    // With batches of 45 at 10 Hz, readings wait in the buffer between batches.
    #expect(host.heartbeats.contains { $0.buffered > 0 })
    #expect(host.heartbeats.allSatisfy { $0.buffered <= 45 })
    let batches = host.messages.compactMap { if case .readingBatch(let b) = $0 { b } else { nil } }
    #expect(batches.count == 2)
    #expect(batches.allSatisfy { $0.count == 45 })
  }
}
