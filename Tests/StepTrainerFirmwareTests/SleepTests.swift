import StepTrainerFirmware
import StepTrainerProtocol
import Testing

/// A board may sleep until `nextDueMs` (or a received byte) between polls, as the mps2 board does:
/// the firmware must then do exactly what it does when polled every millisecond.
@Suite struct SleepTests {
  /// Every message a host receives in a session, polled each millisecond or sleeping in between.
  static func session(rateCentihertz: UInt16, batchSize: UInt8, waitingMs: UInt64, sleeping: Bool) -> [Message] {
    var board = FakeBoard()
    board.storedSettings = FirmwareSettings(sampleRateCentihertz: rateCentihertz, batchSize: batchSize)
    var host = TestHost(board: board)
    // Waiting first: unsolicited HELLOs, and past 25.6 s at 10 Hz a ring that overflows.
    host.run(until: waitingMs, sleeping: sleeping)
    host.connect()
    host.keepAlive = true
    host.run(forMs: 10_000, sleeping: sleeping)
    return host.messages
  }

  @Test(
    arguments: [(1000, 1, 2000), (1600, 1, 500), (1000, 10, 2000), (1000, 1, 30_000), (100, 45, 1000)]
      as [(UInt16, UInt8, UInt64)])
  func sleepingUntilTheNextDueTimeChangesNothing(rateCentihertz: UInt16, batchSize: UInt8, waitingMs: UInt64) {
    let polled = Self.session(
      rateCentihertz: rateCentihertz, batchSize: batchSize, waitingMs: waitingMs, sleeping: false)
    let slept = Self.session(rateCentihertz: rateCentihertz, batchSize: batchSize, waitingMs: waitingMs, sleeping: true)
    #expect(polled.count > 10)
    #expect(slept == polled, "\(slept.count) messages sleeping, \(polled.count) polled")
  }

  @Test func anIdleDeviceIsDueAtItsNextSampleOrTimer() {
    var host = TestHost()
    host.connect()
    host.run(forMs: 50)
    let due = host.firmware.nextDueMs
    // 10 Hz: the next sample is at most 100 ms away, and nothing is due before it.
    #expect(due > host.now && due <= host.now + 100, "due at \(due), now \(host.now)")
  }
}
