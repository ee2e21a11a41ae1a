import Testing

@testable import StepTrainerHost
@testable import StepTrainerProtocol

@Suite struct HostSessionCoreTests {
  /// A host that has completed the handshake and one time sync at t = 10,000 (device clock 5,000,
  /// no delay): device time d maps to epoch 5,000 + d.
  static func connected() throws -> (HostSessionCore, ScriptedDevice) {
    var device = ScriptedDevice()
    var core = HostSessionCore(options: HostSessionCore.Options(linkName: "test"))
    let opening = core.start(now: 10_000)
    #expect(opening.send.first == 0, "a delimiter first, to end whatever the line held")
    let sent = device.heard(opening.send)
    guard case .connect(let connect) = sent.first else {
      Issue.record("expected CONNECT, got \(sent)")
      throw CancellationError()
    }
    let hello = try core.receive(device.send(device.hello(sessionId: connect.sessionId)), now: 10_000)
    #expect(
      hello.events == [
        .connected(
          DeviceInfo(
            hello: { if case .hello(let h) = device.hello(sessionId: connect.sessionId) { h } else { fatalError() } }())
        )
      ])
    let tick = try core.tick(now: 10_000)
    let requests = device.heard(tick.send)
    #expect(requests.contains { if case .heartbeat = $0 { true } else { false } })
    guard let t1 = requests.lazy.compactMap({ if case .timeSyncRequest(let r) = $0 { r.t1 } else { nil } }).first else {
      Issue.record("expected a time sync request, got \(requests)")
      throw CancellationError()
    }
    let synced = try core.receive(
      device.send(.timeSyncResponse(TimeSyncResponse(t1: t1, t2: 5000, t3: 5000))), now: 10_000)
    #expect(synced.events == [.clockSynchronised(offsetMs: -5000, delayMs: 0)])
    return (core, device)
  }

  @Test func readingsAreMappedToWallClockAndKeepTheirStatus() throws {
    var (core, device) = try Self.connected()
    let output = try core.receive(
      device.send(
        .reading(Reading(index: 0, deviceTimeMs: 5100, distanceMm: 1234, status: .ok)),
        .reading(Reading(index: 1, deviceTimeMs: 5200, distanceMm: 0, status: .noEcho)),
        .reading(Reading(index: 2, deviceTimeMs: 5300, distanceMm: 4500, status: .outOfRange))),
      now: 10_300)
    let readings = output.readings
    #expect(readings.map(\.sensorReadingTime) == [10_100, 10_200, 10_300])
    #expect(readings.map(\.serialNumber) == Array(repeating: ScriptedDevice.serial.description, count: 3))
    #expect(readings[0].landingRecord?.distanceFromObject == 123.4)
    #expect(
      readings[1].landingRecord == nil && readings[1].distanceFromObject == nil, "no echo never becomes a distance")
    #expect(readings[2].landingRecord == nil, "out of range never becomes a distance")
    #expect(core.counters.ok == 1 && core.counters.noEcho == 1 && core.counters.outOfRange == 1)
  }

  @Test func batchesUnpackIntoReadingsInOrder() throws {
    var (core, device) = try Self.connected()
    var batch = ReadingBatch(firstIndex: 10, firstTimeMs: 6000)
    for i in 0..<5 {
      batch.append(ReadingBatch.Entry(offsetMs: UInt16(i * 62), distanceMm: UInt16(800 + i), status: .ok))
    }
    let readings = try core.receive(device.send(.readingBatch(batch)), now: 11_000).readings
    #expect(readings.map(\.index) == [10, 11, 12, 13, 14])
    #expect(readings.map(\.sensorReadingTime) == [11_000, 11_062, 11_124, 11_186, 11_248])
    #expect(readings.map(\.distanceMm) == [800, 801, 802, 803, 804])
  }

  @Test func gapsAreCountedAsLostAndRepeatsAsDuplicates() throws {
    var (core, device) = try Self.connected()
    func reading(_ index: UInt32) -> Message {
      .reading(Reading(index: index, deviceTimeMs: 5000 + UInt64(index) * 100, distanceMm: 500, status: .ok))
    }
    let output = try core.receive(
      device.send(reading(0), reading(1), reading(5), reading(5), reading(3), reading(6)), now: 11_000)
    #expect(output.readings.map(\.index) == [0, 1, 5, 6])
    #expect(output.events.contains(.readingsLost(count: 3)))
    #expect(core.counters.lost == 3 && core.counters.duplicates == 2)
  }

  @Test func gapsAndRepeatsInFrameSequenceNumbersAreCounted() throws {
    var (core, device) = try Self.connected()
    let heartbeat = Message.heartbeat(Heartbeat(timeMs: 0, state: .connected))
    _ = try core.receive(device.send(heartbeat, heartbeat), now: 10_100)
    #expect(core.counters.missingFrames == 0 && core.counters.repeatedFrames == 0)
    device.encoder.nextSequence &+= 3
    _ = try core.receive(device.send(heartbeat), now: 10_200)
    #expect(core.counters.missingFrames == 3)
    device.encoder.nextSequence &-= 1
    _ = try core.receive(device.send(heartbeat), now: 10_300)
    #expect(core.counters.repeatedFrames == 1)
    // A HELLO (a reboot, or a new session) starts the numbering afresh: no gap is counted.
    device.encoder = FrameEncoder(firstSequence: 0)
    _ = try core.receive(device.send(device.hello(sessionId: core.options.sessionId), heartbeat), now: 10_400)
    #expect(core.counters.missingFrames == 3 && core.counters.repeatedFrames == 1)
  }

  @Test func readingsBeforeTheFirstTimeSyncWaitForIt() throws {
    var device = ScriptedDevice()
    var core = HostSessionCore(options: HostSessionCore.Options(linkName: "test"))
    let connect = device.heard(core.start(now: 0).send)
    guard case .connect(let c) = connect.first else { throw CancellationError() }
    _ = try core.receive(device.send(device.hello(sessionId: c.sessionId)), now: 0)
    let early = try core.receive(
      device.send(.reading(Reading(index: 0, deviceTimeMs: 1000, distanceMm: 700, status: .ok))), now: 1)
    #expect(early.readings.isEmpty, "no wall-clock time is known yet")
    let t1 = device.heard(try core.tick(now: 2).send).compactMap {
      if case .timeSyncRequest(let r) = $0 { r.t1 } else { nil }
    }
    #expect(t1 == [2])
    let synced = try core.receive(device.send(.timeSyncResponse(TimeSyncResponse(t1: 2, t2: 1001, t3: 1001))), now: 4)
    // offset = floor(((1001 - 2) + (1001 - 4)) / 2) = 998: device 1000 is epoch 2.
    #expect(synced.readings.map(\.sensorReadingTime) == [2])
  }

  @Test func handshakeRetriesThenSaysNoDeviceAnswered() throws {
    var device = ScriptedDevice()
    var core = HostSessionCore(options: HostSessionCore.Options(linkName: "/dev/pts/9"))
    var connects = device.heard(core.start(now: 0).send).count
    var time: Int64 = 0
    var failure: SessionError?
    while failure == nil && time < 10_000 {
      time += 100
      do { connects += device.heard(try core.tick(now: time).send).count } catch { failure = error }
    }
    #expect(connects == 6, "the first CONNECT and five retransmissions")
    #expect(failure == .noDevice(path: "/dev/pts/9", sawOtherHello: false))
    #expect(time == 3000)
    #expect(failure?.description.contains("/dev/pts/9") == true)
  }

  @Test func silenceForThreeSecondsIsADeadLink() throws {
    var (core, _) = try Self.connected()
    _ = try core.tick(now: 12_900)
    #expect(throws: SessionError.deadLink(path: "test", silentMs: 3000)) { try core.tick(now: 13_000) }
  }

  @Test func heartbeatsKeepFlowingAndResyncHappensEveryTenSeconds() throws {
    var (core, device) = try Self.connected()
    var heartbeats = 0
    var syncs = 0
    for time in stride(from: Int64(10_050), through: 40_000, by: 50) {
      // The device keeps talking, so the link stays alive.
      _ = try core.receive(device.send(.heartbeat(Heartbeat(timeMs: 0, state: .connected))), now: time)
      for message in device.heard(try core.tick(now: time).send) {
        if case .heartbeat = message { heartbeats += 1 }
        if case .timeSyncRequest = message { syncs += 1 }
      }
    }
    #expect((29...31).contains(heartbeats), "one heartbeat a second: \(heartbeats)")
    // Four more initial syncs 100 ms apart, then one every 10 s.
    #expect((6...8).contains(syncs), "\(syncs) time syncs")
  }

  @Test func deviceRebootIsNoticedAndTheSessionJoinedAgain() throws {
    var (core, device) = try Self.connected()
    _ = try core.receive(
      device.send(.reading(Reading(index: 40, deviceTimeMs: 9000, distanceMm: 1, status: .ok))), now: 14_000)
    device.bootId = 78
    device.encoder = FrameEncoder()
    let output = try core.receive([0] + device.send(device.hello(sessionId: 0, deviceTimeMs: 10)), now: 14_100)
    #expect(output.events.contains { if case .deviceRestarted = $0 { true } else { false } })
    #expect(device.heard(output.send).contains { if case .connect = $0 { true } else { false } }, "CONNECT again")
    #expect(core.counters.restarts == 1)
    // Index 0 after the reboot is a new sample, not a duplicate.
    let connectId = core.options.sessionId
    _ = try core.receive(device.send(device.hello(sessionId: connectId, deviceTimeMs: 20)), now: 14_120)
    let t1 = device.heard(try core.tick(now: 14_130).send).compactMap {
      if case .timeSyncRequest(let r) = $0 { r.t1 } else { nil }
    }
    _ = try core.receive(device.send(.timeSyncResponse(TimeSyncResponse(t1: t1[0], t2: 30, t3: 30))), now: 14_130)
    let after = try core.receive(
      device.send(.reading(Reading(index: 0, deviceTimeMs: 130, distanceMm: 2, status: .ok))), now: 14_230)
    #expect(after.readings.map(\.sensorReadingTime) == [14_230])
    #expect(core.counters.duplicates == 0)
  }

  @Test func configurationIsAcknowledgedRefusedOrReportedUnanswered() throws {
    var (core, device) = try Self.connected()
    let wanted = Configure(sampleRateCentihertz: 1600, batchSize: 5)
    var sent = core.configure(wanted, now: 10_100)
    let sequence = try #require(
      device.decoder.decode(sent.send).compactMap { event -> UInt16? in
        if case .message(.configure, let s) = event { s } else { nil }
      }.first)
    let acked = try core.receive(device.send(.ack(Ack(answeredType: 0x30, answeredSequence: sequence))), now: 10_110)
    #expect(acked.events == [.configured(wanted)])

    sent = core.configure(Configure(sampleRateCentihertz: 5000), now: 10_200)
    let refusedSequence = device.decoder.decode(sent.send).compactMap { e -> UInt16? in
      if case .message(.configure, let s) = e { s } else { nil }
    }[0]
    let refused = try core.receive(
      device.send(.nack(Nack(answeredType: 0x30, answeredSequence: refusedSequence, reason: .outOfRange))), now: 10_210)
    #expect(refused.events == [.configurationRefused(Configure(sampleRateCentihertz: 5000), .outOfRange)])

    _ = core.configure(wanted, now: 10_300)
    var retries = 0
    var unanswered = false
    for time in stride(from: Int64(10_350), through: 12_500, by: 50) {
      _ = try core.receive(device.send(.heartbeat(Heartbeat(timeMs: 0, state: .connected))), now: time)
      let output = try core.tick(now: time)
      retries += device.heard(output.send).filter { if case .configure = $0 { true } else { false } }.count
      if output.events.contains(.configurationUnanswered(wanted)) { unanswered = true }
    }
    #expect(retries == 3 && unanswered)
  }

  @Test func framesOfAnotherVersionMeanAnUnsupportedDeviceOnlyOnceTheHandshakeFailed() throws {
    var core = HostSessionCore(options: HostSessionCore.Options(linkName: "test"))
    _ = core.start(now: 0)
    var frame = FrameEncoder.encoded(.heartbeat(Heartbeat(timeMs: 1, state: .waiting)), sequence: 0)
    // Version 2 in a frame whose COBS code byte is 1 position before: re-encode by hand.
    frame[1] = 2
    // Any number of them is not yet a verdict: it may be noise ahead of a device's HELLO.
    for time in 1...10 { _ = try core.receive(frame, now: Int64(time)) }
    var verdict: SessionError?
    for time in stride(from: Int64(500), through: 3500, by: 500) {
      do { _ = try core.tick(now: time) } catch {
        verdict = error
        break
      }
    }
    #expect(verdict == .unsupportedVersion(path: "test"))
  }

  @Test func noiseOfAnotherVersionNeverEndsAHandshakeWithAVersionOneDevice() throws {
    var core = HostSessionCore(options: HostSessionCore.Options(linkName: "test"))
    _ = core.start(now: 0)
    var noise = FrameEncoder.encoded(.heartbeat(Heartbeat(timeMs: 1, state: .waiting)), sequence: 0)
    noise[1] = 7
    // Frames that look like another version, then the device's unsolicited HELLO: the host keeps
    // trying to connect instead of giving up on the first.
    for time in 1...5 { _ = try core.receive(noise, now: Int64(time)) }
    var device = ScriptedDevice()
    _ = try core.receive(device.send(device.hello(sessionId: 0)), now: 10)
    for time in 11...15 { _ = try core.receive(noise, now: Int64(time)) }
    _ = try core.tick(now: 600)
    let answered = try core.receive(device.send(device.hello(sessionId: core.options.sessionId)), now: 700)
    #expect(answered.events.contains { if case .connected = $0 { true } else { false } })
  }

  @Test func lineNoiseNeverBecomesAReading() throws {
    var (core, device) = try Self.connected()
    var random = SystemRandomNumberGenerator()
    var delivered: [CapturedReading] = []
    var sentDistances: [UInt32: UInt16] = [:]
    for index in UInt32(0)..<2000 {
      let distance = UInt16.random(in: 20...4000, using: &random)
      sentDistances[index] = distance
      var bytes = device.send(
        .reading(Reading(index: index, deviceTimeMs: 5000 + UInt64(index) * 62, distanceMm: distance, status: .ok)))
      if Int.random(in: 0..<10, using: &random) == 0 {
        bytes[Int.random(in: 0..<bytes.count - 1, using: &random)] ^= 0x20
      }
      if Int.random(in: 0..<20, using: &random) == 0 {
        bytes = (0..<20).map { _ in UInt8.random(in: 0...255, using: &random) } + bytes
      }
      delivered += try core.receive(bytes, now: 10_000 + Int64(index) * 62).readings
    }
    #expect(delivered.count > 1500)
    for reading in delivered {
      #expect(sentDistances[reading.index] == reading.distanceMm, "reading \(reading.index) must be what was sent")
      #expect(reading.sensorReadingTime == 10_000 + Int64(reading.index) * 62)
    }
    #expect(core.counters.lost + delivered.count <= 2000)
    #expect(core.counters.decoder.framesRejected > 100)
  }
}

@Suite struct ClockEstimatorTests {
  @Test func offsetAndDelayFollowTheNTPFormulas() {
    var clock = ClockEstimator()
    // Host sends at 1000, device (clock 200 ahead of "epoch 0 = boot") receives at 205 and answers
    // at 206; the host receives at 1012: delay 11, offset floor(((205-1000)+(206-1012))/2) = -801.
    let sample = clock.add(t1: 1000, t2: 205, t3: 206, t4: 1012)
    #expect(sample == ClockEstimator.Sample(offset: -801, delay: 11))
    #expect(clock.epochMilliseconds(deviceTime: 300) == 1101)
  }

  @Test func theSampleWithTheSmallestDelayWinsAmongTheLastEight() {
    var clock = ClockEstimator()
    clock.add(t1: 0, t2: 100, t3: 100, t4: 2)  // delay 2
    for i in 1...7 {
      clock.add(t1: Int64(i) * 1000, t2: UInt64(i) * 1000 + 120, t3: UInt64(i) * 1000 + 120, t4: Int64(i) * 1000 + 40)
    }
    #expect(clock.best?.delay == 2)
    clock.add(t1: 8000, t2: 8120, t3: 8120, t4: 8040)
    #expect(clock.best?.delay == 40, "the delay-2 sample has left the window")
    #expect(clock.epochMilliseconds(deviceTime: 0) == -100)
  }

  @Test func nothingIsMappedBeforeTheFirstSample() {
    #expect(ClockEstimator().epochMilliseconds(deviceTime: 5) == nil)
  }
}
