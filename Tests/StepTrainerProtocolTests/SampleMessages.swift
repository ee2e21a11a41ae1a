import StepTrainerProtocol

/// One realistic message of every type, with values that exercise zeros and extremes.
enum SampleMessages {
  static let serial = DeviceSerialNumber("7f3c2a10-5b9e-4d21-8a06-c4e5f1b2d390")!

  static var all: [Message] {
    var batch = ReadingBatch(firstIndex: 4_294_967_290, firstTimeMs: 86_400_000)
    for i in 0..<ReadingBatch.capacity {
      batch.append(
        ReadingBatch.Entry(
          offsetMs: UInt16(i * 100), distanceMm: UInt16(200 + i * 37),
          status: i % 11 == 3 ? .noEcho : (i % 13 == 5 ? .outOfRange : .ok)))
    }
    var short = ReadingBatch(firstIndex: 0, firstTimeMs: 0)
    short.append(ReadingBatch.Entry(offsetMs: 0, distanceMm: 0, status: .sensorFault))
    return [
      .connect(Connect(sessionId: 0xDEAD_BEEF)),
      .hello(
        Hello(
          serialNumber: serial, firmwareMajor: 1, firmwareMinor: 2, firmwarePatch: 3, sensorKind: .ultrasonic,
          sampleRateCentihertz: 1000, minDistanceMm: 20, maxDistanceMm: 4000, deviceTimeMs: 123_456,
          sessionId: 0xDEAD_BEEF, bootId: 42, bufferCapacity: 512)),
      .heartbeat(Heartbeat(timeMs: 1_732_000_000_000, state: .connected, buffered: 7, dropped: 3)),
      .heartbeat(Heartbeat(timeMs: 0, state: .waiting)),
      .reading(Reading(index: 0, deviceTimeMs: 0, distanceMm: 0, status: .ok)),
      .reading(Reading(index: 77, deviceTimeMs: 9_007_199_254_740_991, distanceMm: 4000, status: .outOfRange)),
      .readingBatch(batch),
      .readingBatch(short),
      .timeSyncRequest(TimeSyncRequest(t1: 1_732_000_000_123)),
      .timeSyncResponse(TimeSyncResponse(t1: 1_732_000_000_123, t2: 5000, t3: 5001)),
      .configure(Configure(sampleRateCentihertz: 1600, batchSize: 10)),
      .ack(Ack(answeredType: MessageType.configure.rawValue, answeredSequence: 65535)),
      .nack(Nack(answeredType: 0x7F, answeredSequence: 0, reason: .unknownType)),
      .fault(Fault(code: .bufferOverflow, severity: .warning, detail: 12, deviceTimeMs: 99)),
    ]
  }

  /// The wire bytes of `messages`, numbered from `firstSequence`.
  static func wire(_ messages: [Message], firstSequence: UInt16 = 0) -> [UInt8] {
    var encoder = FrameEncoder(firstSequence: firstSequence)
    return messages.flatMap { encoder.encoded($0) }
  }
}
