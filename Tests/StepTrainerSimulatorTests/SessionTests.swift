import StepTrainerFirmware
import StepTrainerProtocol
import StepTrainerSimulator
import Testing

@Suite("The simulated device: identity, truth log, restart")
struct SessionTests {
  @Test("while waiting the device sends one unsolicited HELLO per second and nothing else; its first byte is 0x00")
  func unsolicitedHello() {
    var bench = TestBench()
    bench.run(until: 5500)
    #expect(bench.wire.first == 0)
    #expect(bench.rejected.isEmpty)
    #expect(bench.messages.count == bench.hellos.count)
    #expect(bench.hellos.map(\.deviceTimeMs) == [0, 1000, 2000, 3000, 4000, 5000])
    #expect(bench.hellos.allSatisfy { $0.sessionId == 0 && $0.bootId == bench.device.bootId })
    let hello = bench.hellos[0]
    #expect(hello.protocolVersion == 1)
    #expect(hello.serialNumber == bench.device.serialNumber)
    #expect(hello.sensorKind == .ultrasonic)
    #expect(hello.sampleRateCentihertz == 1000)
    #expect(hello.minDistanceMm == 20 && hello.maxDistanceMm == 4000)
    // The firmware's own figures: the simulator runs it, and reports what it reports.
    #expect(Int(hello.bufferCapacity) == StepTrainerFirmware<SimulatedBoard>.bufferCapacity)
    let version = StepTrainerFirmware<SimulatedBoard>.firmwareVersion
    #expect(
      (hello.firmwareMajor, hello.firmwareMinor, hello.firmwarePatch) == (version.major, version.minor, version.patch))
    #expect(bench.device.state == .waiting)
  }

  @Test("the serial number is the given one, or a version-4 UUID derived from the seed")
  func serialNumber() {
    let given = DeviceSerialNumber("0f6c2a4e-94b0-4c55-9a1e-2d3c4b5a6978")!
    #expect(SimulatedStepTrainer(options: SimulatorOptions(serialNumber: given)).serialNumber == given)
    let derived = SimulatedStepTrainer(options: SimulatorOptions(seed: 9)).serialNumber
    #expect(derived == SimulatedStepTrainer(options: SimulatorOptions(seed: 9)).serialNumber)
    #expect(derived != SimulatedStepTrainer(options: SimulatorOptions(seed: 10)).serialNumber)
    let text = derived.description
    #expect(Array(text)[14] == "4")
    #expect("89ab".contains(Array(text)[19]))
  }

  @Test("CONNECT is answered by a HELLO echoing the session id, then readings stream with heartbeats")
  func handshake() {
    var bench = TestBench()
    bench.keepAlive = true
    bench.run(until: 250)
    let mark = bench.received.count
    bench.connect(sessionId: 0xCAFE_F00D)
    let answer = bench.messages(after: mark)
    guard case .hello(let hello) = answer.first else {
      Issue.record("expected HELLO first, got \(answer)")
      return
    }
    #expect(hello.sessionId == 0xCAFE_F00D)
    #expect(hello.deviceTimeMs == 250)
    #expect(bench.device.state == .connected)
    #expect(bench.device.sessionId == 0xCAFE_F00D)
    bench.run(until: 5250)
    // Nothing unsolicited any more: every later HELLO would be a bug.
    #expect(bench.hellos.filter { $0.sessionId == 0 }.count == 1)
    #expect(bench.heartbeats.map(\.timeMs) == [1250, 2250, 3250, 4250, 5250])
    #expect(bench.heartbeats.allSatisfy { $0.state == .connected && $0.dropped == 0 })
    let readings = bench.readings
    #expect(readings.map(\.index) == Array(0..<52))
    #expect(readings.map { GeneratedSample(reading: $0, bootId: hello.bootId) } == bench.device.log.samples)
  }

  @Test("time sync: t1 echoed, t2 and t3 the device clock when the request arrived")
  func timeSync() {
    var bench = TestBench()
    bench.keepAlive = true
    bench.run(until: 700)
    bench.connect()
    bench.run(until: 4321)
    bench.send(.timeSyncRequest(TimeSyncRequest(t1: 1_700_000_123_456)))
    guard case .timeSyncResponse(let response) = bench.received.last?.message else {
      Issue.record("no TIME_SYNC_RESPONSE")
      return
    }
    #expect(response == TimeSyncResponse(t1: 1_700_000_123_456, t2: 4321, t3: 4321))
    // After a reboot the device clock starts again at 0.
    bench.device.restart(atMs: 10_000)
    bench.run(until: 10_100)
    bench.connect()
    bench.run(until: 10_600)
    bench.send(.timeSyncRequest(TimeSyncRequest(t1: 7)))
    guard case .timeSyncResponse(let after) = bench.received.last?.message else {
      Issue.record("no TIME_SYNC_RESPONSE after the restart")
      return
    }
    #expect(after == TimeSyncResponse(t1: 7, t2: 600, t3: 600))
  }

  @Test("restart: 0x00 first, new boot id, sequence 0, waiting, sample index and device clock from 0")
  func restart() {
    var bench = TestBench()
    bench.keepAlive = true
    bench.connect()
    bench.run(until: 5000)
    let firstBoot = bench.device.bootId
    let sentBefore = bench.wire.count
    bench.device.restart(atMs: 5003)
    bench.keepAlive = false
    let mark = bench.received.count
    bench.run(until: 5010)
    #expect(bench.wire[sentBefore] == 0)
    #expect(bench.device.bootId != firstBoot && bench.device.bootId != 0)
    #expect(bench.device.state == .waiting)
    #expect(bench.device.deviceTimeMs == 7)
    guard case .hello(let hello) = bench.received[mark].message else {
      Issue.record("expected an unsolicited HELLO after the reboot")
      return
    }
    #expect(bench.received[mark].sequence == 0)
    #expect(hello.bootId == bench.device.bootId)
    #expect(hello.sessionId == 0)
    #expect(hello.deviceTimeMs == 0)
    bench.run(until: 5550)
    bench.connect()
    let after = TestBench.readings(in: bench.messages(after: mark))
    #expect(after.first?.index == 0)
    #expect(after.first?.deviceTimeMs == 100)
    #expect(bench.device.log.samples.filter { $0.bootId == hello.bootId }.map(\.index) == Array(0..<5))
  }

  @Test("settings a host configured survive a restart, as the board's storage keeps them")
  func settingsSurviveARestart() {
    var bench = TestBench()
    bench.keepAlive = true
    bench.connect()
    bench.run(until: 500)
    bench.send(.configure(Configure(sampleRateCentihertz: 1600, batchSize: 4)))
    #expect(bench.acks.count == 1)
    bench.device.restart(atMs: 1000)
    bench.keepAlive = false
    bench.take()
    bench.resetDecoder()
    bench.run(until: 1500)
    #expect(bench.hellos.first?.sampleRateCentihertz == 1600)
    #expect(bench.device.batchSize == 4)
    #expect(bench.device.firmware.board.storedSettings == FirmwareSettings(sampleRateCentihertz: 1600, batchSize: 4))
  }

  @Test("restarting drops the buffered samples and counts them")
  func restartLosesBuffer() {
    var bench = TestBench()
    bench.run(until: 3000)
    #expect(bench.device.bufferedCount == 30)
    bench.device.restart(atMs: 3000)
    #expect(bench.device.bufferedCount == 0)
    #expect(bench.device.counters.samplesLostAtRestart == 30)
    #expect(bench.device.counters.restarts == 1)
  }
}

extension GeneratedSample {
  init(reading: Reading, bootId: UInt32) {
    self.init(
      bootId: bootId, index: reading.index, deviceTimeMs: reading.deviceTimeMs, distanceMm: reading.distanceMm,
      status: reading.status)
  }
}
