import StepTrainerProtocol

extension StepTrainerFirmware {
  /// Encodes a frame with the next sequence into a stack buffer and writes it to the UART.
  mutating func send(_ message: Message) {
    var wire = InlineArray<252, UInt8>(repeating: 0)
    var span = wire.mutableSpan
    span.withUnsafeMutableBufferPointer { buffer in
      let count = encoder.encode(message, into: buffer)
      board.uartWrite(UnsafeBufferPointer(rebasing: buffer[0..<count]))
    }
  }

  /// Sends a HELLO after a 0x00: a HELLO is the first frame a host that just opened the port
  /// sees, and the delimiter ends whatever partial bytes the line carried (PROTOCOL.md 3.3).
  mutating func sendHello(sessionId: UInt32, atMs now: UInt64) {
    var delimiter = FrameFormat.delimiter
    withUnsafePointer(to: &delimiter) { board.uartWrite(UnsafeBufferPointer(start: $0, count: 1)) }
    send(
      .hello(
        Hello(
          serialNumber: board.serialNumber, firmwareMajor: Self.firmwareVersion.major,
          firmwareMinor: Self.firmwareVersion.minor, firmwarePatch: Self.firmwareVersion.patch,
          sensorKind: .ultrasonic, sampleRateCentihertz: settings.sampleRateCentihertz,
          minDistanceMm: DistanceSample.minDistanceMm, maxDistanceMm: DistanceSample.maxDistanceMm,
          deviceTimeMs: now, sessionId: sessionId, bootId: bootId, bufferCapacity: UInt16(Self.bufferCapacity))))
  }

  /// Sends what the ring holds, oldest first: a READING per sample, or a READING_BATCH when
  /// configured to batch or when a backlog built up (PROTOCOL.md 4.5).
  mutating func stream(atMs now: UInt64) {
    reportOverflow(atMs: now)
    let batchSize = Int(settings.batchSize)
    var frames = 0
    while ring.count >= batchSize && ring.count > 0 && frames < Self.readingFramesPerPoll {
      frames += 1
      let wanted = ring.count > batchSize ? min(ring.count, ReadingBatch.capacity) : batchSize
      let first = ring.reading(0, nowMs: now)
      if wanted == 1 {
        send(.reading(first))
        ring.removeFirst(1)
        continue
      }
      var batch = ReadingBatch(firstIndex: first.index, firstTimeMs: first.deviceTimeMs)
      // A batch holds consecutive readings within 65.5 s of its first; the rest waits for the next.
      while batch.count < wanted, batch.append(ring.reading(batch.count, nowMs: now)) {}
      send(.readingBatch(batch))
      ring.removeFirst(batch.count)
    }
  }

  /// Tells the host about readings lost to a full ring, at most once a second (PROTOCOL.md 5.8).
  mutating func reportOverflow(atMs now: UInt64) {
    guard droppedCount != droppedReported else { return }
    if let last = lastOverflowFaultMs, now &- last < 1000 { return }
    send(.fault(Fault(code: .bufferOverflow, severity: .warning, detail: droppedCount, deviceTimeMs: lastDropMs)))
    droppedReported = droppedCount
    lastOverflowFaultMs = now
  }
}
