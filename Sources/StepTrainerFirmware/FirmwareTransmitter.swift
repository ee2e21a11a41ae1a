import StepTrainerProtocol

extension StepTrainerFirmware {
  /// Encodes a frame of one payload struct with the next sequence into a stack buffer and writes
  /// it to the UART. Never a `Message`: that enum is as large as a READING_BATCH (~300 B), and
  /// each copy of it on the way down cost the device's stack as much.
  mutating func send<Payload: MessagePayload>(_ payload: Payload) {
    sendFrame(Payload.messageType) { payload.write(&$0) }
  }

  /// Encodes a frame whose payload `writePayload` writes, with the next sequence, straight into
  /// the one wire buffer (COBS in place) and writes it to the UART.
  mutating func sendFrame(_ type: MessageType, _ writePayload: (inout PayloadWriter) -> Void) {
    guard hostListening else { return }
    Self.transmit(type, &encoder, &board, writePayload)
    counters.framesSent &+= 1
  }

  /// `sendFrame` over just the encoder and the board, so a payload writer may read the rest of the
  /// firmware (the ring) meanwhile. Not inlined, so the 252-byte buffer exists once, in this
  /// frame, and not in every caller's frame.
  @inline(never)
  static func transmit(
    _ type: MessageType, _ encoder: inout FrameEncoder, _ board: inout Board,
    _ writePayload: (inout PayloadWriter) -> Void
  ) {
    var wire = InlineArray<252, UInt8>(repeating: 0)
    var span = wire.mutableSpan
    span.withUnsafeMutableBufferPointer { buffer in
      let count = encoder.encode(type, into: buffer, writePayload: writePayload)
      board.uartWrite(UnsafeBufferPointer(rebasing: buffer[0..<count]))
    }
  }

  /// Sends a HELLO after a 0x00: a HELLO is the first frame a host that just opened the port
  /// sees, and the delimiter ends whatever partial bytes the line carried (PROTOCOL.md 3.3).
  mutating func sendHello(sessionId: UInt32, atMs now: UInt64) {
    guard hostListening else { return }
    var delimiter = FrameFormat.delimiter
    withUnsafePointer(to: &delimiter) { board.uartWrite(UnsafeBufferPointer(start: $0, count: 1)) }
    send(
      Hello(
        serialNumber: board.serialNumber, firmwareMajor: Self.firmwareVersion.major,
        firmwareMinor: Self.firmwareVersion.minor, firmwarePatch: Self.firmwareVersion.patch,
        sensorKind: .ultrasonic, sampleRateCentihertz: settings.sampleRateCentihertz,
        minDistanceMm: DistanceSample.minDistanceMm, maxDistanceMm: DistanceSample.maxDistanceMm,
        deviceTimeMs: now, sessionId: sessionId, bootId: bootId, bufferCapacity: UInt16(Self.bufferCapacity)))
  }

  /// Sends what the ring holds, oldest first: a READING per sample, or a READING_BATCH when
  /// configured to batch or when a backlog built up; a part-filled batch once its first reading
  /// is `maxBatchAgeMs` old (PROTOCOL.md 4.5).
  mutating func stream(atMs now: UInt64) {
    reportOverflow(atMs: now)
    let batchSize = Int(settings.batchSize)
    var frames = 0
    while ring.count > 0 && frames < Self.readingFramesPerPoll {
      let wanted: Int
      if ring.count >= batchSize {
        wanted = ring.count > batchSize ? min(ring.count, ReadingBatch.capacity) : batchSize
      } else if now >= ring.reading(0, nowMs: now).deviceTimeMs &+ Self.maxBatchAgeMs {
        wanted = ring.count
      } else {
        break
      }
      frames += 1
      sendReadings(wanted, atMs: now)
    }
    // For nextDueMs, which must not read the ring (see partialBatchDueMs).
    partialBatchDueMs =
      ring.count > 0 ? ring.reading(0, nowMs: now).deviceTimeMs &+ Self.maxBatchAgeMs : UInt64.max
  }

  /// Sends everything the ring holds, whatever the batch size (before a settings change).
  mutating func flush(atMs now: UInt64) {
    while ring.count > 0 { sendReadings(min(ring.count, ReadingBatch.capacity), atMs: now) }
  }

  /// Sends the `wanted` oldest readings (fewer if they do not fit one batch) in one frame.
  mutating func sendReadings(_ wanted: Int, atMs now: UInt64) {
    let first = ring.reading(0, nowMs: now)
    if wanted == 1 {
      send(first)
      ring.removeFirst(1)
      counters.readingsSent &+= 1
      return
    }
    // A batch holds consecutive readings within 65.5 s of its first (what ReadingBatch.append
    // accepts); the rest waits for the next. Counted first, then written from the ring straight
    // into the frame.
    var count = 1
    var lastOffset: UInt64 = 0
    while count < wanted {
      let time = ring.reading(count, nowMs: now).deviceTimeMs
      guard time >= first.deviceTimeMs, time - first.deviceTimeMs <= UInt64(UInt16.max),
        time - first.deviceTimeMs >= lastOffset
      else { break }
      lastOffset = time - first.deviceTimeMs
      count += 1
    }
    Self.transmit(.readingBatch, &encoder, &board) { writer in
      ReadingBatch.write(
        firstIndex: first.index, firstTimeMs: first.deviceTimeMs, count: count, into: &writer
      ) { i in
        let reading = ring.reading(i, nowMs: now)
        return ReadingBatch.Entry(
          offsetMs: UInt16(truncatingIfNeeded: reading.deviceTimeMs &- first.deviceTimeMs),
          distanceMm: reading.distanceMm, status: reading.status)
      }
    }
    ring.removeFirst(count)
    counters.framesSent &+= 1
    counters.readingsSent &+= UInt32(count)
  }

  /// Tells the host about readings lost to a full ring, at most once a second (PROTOCOL.md 5.8).
  mutating func reportOverflow(atMs now: UInt64) {
    guard droppedCount != droppedReported else { return }
    if let last = lastOverflowFaultMs, now &- last < 1000 { return }
    send(Fault(code: .bufferOverflow, severity: .warning, detail: droppedCount, deviceTimeMs: lastDropMs))
    droppedReported = droppedCount
    lastOverflowFaultMs = now
  }
}
