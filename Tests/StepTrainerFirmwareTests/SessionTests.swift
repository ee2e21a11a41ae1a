import StepTrainerFirmware
import StepTrainerProtocol
import Testing

/// Waiting, the handshake, liveness and the link timeout (PROTOCOL.md 4.1 to 4.3).
@Suite struct SessionTests {
  @Test func waitingDeviceSendsOnlyAnUnsolicitedHelloEachSecond() {
    var host = TestHost()
    host.run(until: 3500)
    // The first byte after boot is a delimiter, ending whatever partial bytes the line carried.
    #expect(host.wire.first == 0)
    #expect(host.messages.count == 4)
    #expect(host.hellos.map(\.deviceTimeMs) == [0, 1000, 2000, 3000])
    for hello in host.hellos {
      #expect(hello.sessionId == 0)
      #expect(hello.protocolVersion == 1)
      #expect(hello.bootId == host.firmware.bootId && hello.bootId != 0)
      #expect(hello.serialNumber == host.firmware.board.serialNumber)
      #expect(hello.bufferCapacity == 256)
      #expect(hello.sampleRateCentihertz == 1000)
      #expect(hello.sensorKind == .ultrasonic)
      #expect(hello.minDistanceMm == 20 && hello.maxDistanceMm == 4000)
    }
    // Sampling goes on into the buffer while nobody listens.
    #expect(host.firmware.samplesTaken == 35)
    #expect(host.firmware.bufferedCount == 35)
    #expect(host.firmware.state == .waiting)
  }

  @Test func connectIsAnsweredWithHelloEchoingTheSessionThenReadingsFlowOldestFirst() {
    var host = TestHost()
    host.run(until: 2550)
    _ = host.take()
    host.connect(sessionId: 0xABCD_1234)
    #expect(host.firmware.state == .connected)
    #expect(host.firmware.sessionId == 0xABCD_1234)
    let first = host.messages.first
    guard case .hello(let hello)? = first else {
      Issue.record("expected HELLO first, got \(String(describing: first))")
      return
    }
    #expect(hello.sessionId == 0xABCD_1234)
    #expect(hello.deviceTimeMs == 2550)
    host.keepAlive = true
    host.run(forMs: 5000)
    let readings = host.readings
    // 25 buffered while waiting, then 50 live: every index once, in order, from 0.
    #expect(readings.map(\.index) == Array(0..<75))
    #expect(readings.first?.deviceTimeMs == 100)
    #expect(readings.allSatisfy { $0.status == .ok && $0.distanceMm == 1000 })
    // The backlog went out in batches, live readings one by one (batch size 1).
    #expect(host.messages.contains { if case .readingBatch = $0 { true } else { false } })
    guard case .reading? = host.messages.last(where: { $0.type == .reading || $0.type == .readingBatch }) else {
      Issue.record("live readings should be READINGs")
      return
    }
    // One heartbeat per second while connected, reporting the state and an empty buffer.
    #expect(host.heartbeats.count == 5)
    #expect(host.heartbeats.allSatisfy { $0.state == .connected && $0.dropped == 0 && $0.buffered <= 1 })
    #expect(host.hellos.count == 1)
  }

  @Test func nothingButHellosIsSentBeforeTheHandshake() {
    var host = TestHost()
    host.run(until: 20_000, stepMs: 5)
    #expect(host.messages.allSatisfy { $0.type == .hello })
    #expect(host.readings.isEmpty)
  }

  @Test func aSilentHostTimesOutAfterThreeSecondsAndTheDeviceWaitsAgainKeepingItsBuffer() {
    var host = TestHost()
    host.connect()
    host.run(until: 2990)
    #expect(host.firmware.state == .connected)
    _ = host.take()
    host.run(until: 3000)
    #expect(host.firmware.state == .waiting)
    #expect(host.firmware.sessionId == 0)
    // An unsolicited HELLO at once, then one per second; no readings, no heartbeats.
    host.run(until: 6500)
    #expect(host.hellos.map(\.deviceTimeMs) == [3000, 4000, 5000, 6000])
    #expect(host.hellos.allSatisfy { $0.sessionId == 0 })
    #expect(host.messages.allSatisfy { $0.type == .hello })
    // Samples from 3,000 ms (taken just after the timeout) to 6,500 ms.
    #expect(host.firmware.bufferedCount == 36)
    // A new session gets the samples taken while waiting, with no gap.
    let sentBefore = host.firmware.samplesTaken - UInt32(host.firmware.bufferedCount)
    _ = host.take()
    host.connect(sessionId: 7)
    host.keepAlive = true
    host.run(forMs: 1000)
    #expect(host.readings.first?.index == sentBefore)
    #expect(host.firmware.bufferedCount <= 1)
  }

  @Test func hostHeartbeatsKeepTheSessionAlive() {
    var host = TestHost()
    host.connect()
    host.keepAlive = true
    host.run(forMs: 20_000, stepMs: 3)
    #expect(host.firmware.state == .connected)
    // The unsolicited HELLO at boot, the answer to CONNECT, and none after.
    #expect(host.hellos.map(\.sessionId) == [0, 0x5EED_0001])
    #expect(host.readings.count == 200)
  }

  @Test func aConnectWhileConnectedRestartsTheSession() {
    var host = TestHost()
    host.connect(sessionId: 1)
    host.run(forMs: 500)
    host.connect(sessionId: 2)
    #expect(host.firmware.sessionId == 2)
    #expect(host.hellos.map(\.sessionId) == [0, 1, 2])
  }
}
