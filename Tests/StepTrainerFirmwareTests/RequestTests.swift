import StepTrainerFirmware
import StepTrainerProtocol
import Testing

/// Time sync and configuration, with settings that survive a reboot (PROTOCOL.md 4.4, 4.6, 5.6).
@Suite struct RequestTests {
  @Test func timeSyncAnswersWithReceiveAndSendTimes() {
    var host = TestHost()
    host.connect()
    host.run(until: 1234)
    _ = host.take()
    // Time passes inside the poll (1 ms per clock read), as on a real board.
    host.firmware.board.msPerClockRead = 1
    host.send(.timeSyncRequest(TimeSyncRequest(t1: 1_700_000_000_123)))
    host.poll()
    host.firmware.board.msPerClockRead = 0
    let responses = host.timeSyncResponses
    #expect(responses.count == 1)
    guard let response = responses.first else { return }
    #expect(response.t1 == 1_700_000_000_123)
    // t2 when the bytes were read (the first clock read after the UART), t3 just before sending.
    #expect(response.t2 == 1234)
    #expect(response.t3 > response.t2 && response.t3 <= 1236)
    // The reply names no sequence, but comes straight after the request: nothing in between.
    #expect(host.messages.first?.type == .timeSyncResponse)
  }

  @Test func timeSyncAndConfigureWhileWaitingAreRefused() {
    var host = TestHost()
    host.run(until: 10)
    let syncSequence = host.send(.timeSyncRequest(TimeSyncRequest(t1: 5)))
    let configureSequence = host.send(.configure(Configure(sampleRateCentihertz: 500)))
    host.run(forMs: 10)
    #expect(
      host.nacks == [
        Nack(answeredType: MessageType.timeSyncRequest.rawValue, answeredSequence: syncSequence, reason: .notConnected),
        Nack(answeredType: MessageType.configure.rawValue, answeredSequence: configureSequence, reason: .notConnected),
      ])
    #expect(host.firmware.settings == FirmwareSettings())
    #expect(host.firmware.board.stores == 0)
  }

  @Test func configureIsAppliedAcknowledgedStoredAndReloadedAfterAReboot() {
    var host = TestHost()
    host.connect()
    host.keepAlive = true
    host.run(until: 1000)
    let sequence = host.send(.configure(Configure(sampleRateCentihertz: 1600, batchSize: 5)))
    host.poll()
    #expect(host.acks == [Ack(answeredType: MessageType.configure.rawValue, answeredSequence: sequence)])
    #expect(host.firmware.settings == FirmwareSettings(sampleRateCentihertz: 1600, batchSize: 5))
    #expect(host.firmware.board.storedSettings == FirmwareSettings(sampleRateCentihertz: 1600, batchSize: 5))
    _ = host.take()
    host.run(forMs: 10_000)
    // 16 Hz for 10 s, in batches of 5.
    let readings = host.readings
    #expect(abs(readings.count - 160) <= 5)
    let batches = host.messages.compactMap { if case .readingBatch(let b) = $0 { b } else { nil } }
    #expect(!batches.isEmpty && batches.allSatisfy { $0.count == 5 })
    #expect(!host.messages.contains { $0.type == .reading })
    // A retransmitted CONFIGURE is idempotent and does not write the flash again.
    host.send(.configure(Configure(sampleRateCentihertz: 1600, batchSize: 5)))
    host.poll()
    #expect(host.firmware.board.stores == 1)
    // 0 keeps a value.
    host.send(.configure(Configure(sampleRateCentihertz: 0, batchSize: 1)))
    host.poll()
    #expect(host.firmware.settings == FirmwareSettings(sampleRateCentihertz: 1600, batchSize: 1))

    host.reboot()
    #expect(host.firmware.settings == FirmwareSettings(sampleRateCentihertz: 1600, batchSize: 1))
    host.run(until: 1000)
    #expect(host.hellos.first?.sampleRateCentihertz == 1600)
    #expect(host.firmware.samplesTaken == 16)
    #expect(host.faults.isEmpty)
  }

  @Test(arguments: [
    Configure(sampleRateCentihertz: 99, batchSize: 1), Configure(sampleRateCentihertz: 1601, batchSize: 0),
    Configure(sampleRateCentihertz: 0, batchSize: 46), Configure(sampleRateCentihertz: 65535, batchSize: 255),
  ])
  func invalidConfigurationIsRefusedAndChangesNothing(configure: Configure) {
    var host = TestHost()
    host.connect()
    _ = host.take()
    let sequence = host.send(.configure(configure))
    host.poll()
    #expect(
      host.nacks == [
        Nack(answeredType: MessageType.configure.rawValue, answeredSequence: sequence, reason: .outOfRange)
      ])
    #expect(host.acks.isEmpty)
    #expect(host.firmware.settings == FirmwareSettings())
    #expect(host.firmware.board.stores == 0)
  }

  @Test func missingSettingsGiveDefaultsWithoutAFault() {
    var host = TestHost()
    host.connect()
    host.run(forMs: 100)
    #expect(host.firmware.settings == FirmwareSettings(sampleRateCentihertz: 1000, batchSize: 1))
    #expect(host.faults.isEmpty)
    #expect(host.firmware.board.stores == 0)
  }

  @Test(arguments: [(5000, 1), (1000, 0), (0, 200)] as [(UInt16, UInt8)])
  func outOfRangeSettingsAreCorruptDefaultsRestoredAndReportedOnce(rate: UInt16, batch: UInt8) {
    var board = FakeBoard()
    board.storedSettings = FirmwareSettings(sampleRateCentihertz: rate, batchSize: batch)
    var host = TestHost(board: board)
    #expect(host.firmware.settings == FirmwareSettings())
    #expect(host.firmware.board.storedSettings == FirmwareSettings())
    host.run(until: 2500)
    // Not while waiting: the host would never see it.
    #expect(host.faults.isEmpty)
    _ = host.take()
    host.connect()
    host.run(forMs: 100)
    #expect(host.faults.count == 1)
    #expect(host.faults.first?.code == .settingsCorrupt)
    #expect(host.messages.first?.type == .hello)
    #expect(host.messages.dropFirst().first?.type == .fault)
    // The next session, and the next boot, have nothing to report.
    host.connect(sessionId: 2)
    host.run(forMs: 100)
    #expect(host.faults.count == 1)
    host.reboot()
    host.connect()
    host.run(forMs: 100)
    #expect(host.faults.isEmpty)
  }

  @Test func storageThatFailsItsCheckIsReportedAsCorrupt() {
    var board = FakeBoard()
    board.storedSettings = FirmwareSettings(sampleRateCentihertz: 500, batchSize: 3)
    board.storageCorrupt = true
    var host = TestHost(board: board)
    #expect(host.firmware.settings == FirmwareSettings())
    host.connect()
    host.run(forMs: 100)
    #expect(host.faults.map(\.code) == [.settingsCorrupt])
  }
}
