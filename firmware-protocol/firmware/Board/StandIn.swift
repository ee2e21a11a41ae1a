#if STEDI_STAND_IN
  import StepTrainerFirmware
  import StepTrainerProtocol

  /// A minimal main loop used only while Sources/StepTrainerFirmware has no firmware type yet
  /// (the Makefile passes -D STEDI_STAND_IN then): unsolicited HELLO every second, HELLO with the
  /// session id on CONNECT, then a READING every 100 ms. No heartbeats, time sync or buffering.
  struct StandInFirmware<Board: StepTrainerBoard> {
    var board: Board
    var encoder = FrameEncoder()
    var decoder = FrameDecoder()
    var bootId: UInt32
    var sessionId: UInt32 = 0
    var nextHelloMs: UInt64 = 0
    var nextReadingMs: UInt64 = 0
    var readingIndex: UInt32 = 0

    init(board: Board) {
      self.board = board
      var id = self.board.random32()
      if id == 0 { id = 1 }
      bootId = id
    }

    mutating func send(_ message: Message) {
      var wire = InlineArray<260, UInt8>(repeating: 0)
      var span = wire.mutableSpan
      span.withUnsafeMutableBufferPointer { buffer in
        let count = encoder.encode(message, into: buffer)
        board.uartWrite(UnsafeBufferPointer(rebasing: buffer[0..<count]))
      }
    }

    func hello(now: UInt64, session: UInt32) -> Message {
      .hello(
        Hello(
          serialNumber: board.serialNumber, firmwareMajor: 0, firmwareMinor: 0, firmwarePatch: 1,
          sensorKind: .ultrasonic, sampleRateCentihertz: 1000, minDistanceMm: 20, maxDistanceMm: 4000,
          deviceTimeMs: now, sessionId: session, bootId: bootId, bufferCapacity: 0))
    }

    /// When `poll()` next has timed work, for the sleeping main loop.
    var nextDueMs: UInt64 { sessionId == 0 ? nextHelloMs : nextReadingMs }

    mutating func poll() {
      var input = InlineArray<64, UInt8>(repeating: 0)
      var inputSpan = input.mutableSpan
      var connectSession: UInt32 = 0
      inputSpan.withUnsafeMutableBufferPointer { buffer in
        let count = board.uartRead(into: buffer)
        decoder.decode(UnsafeBufferPointer(rebasing: buffer[0..<count])) { event in
          if case .message(.connect(let connect), _) = event { connectSession = connect.sessionId }
        }
      }
      let now = board.milliseconds()
      if connectSession != 0 {
        sessionId = connectSession
        send(hello(now: now, session: sessionId))
        nextReadingMs = now
      }
      if sessionId == 0 {
        if now >= nextHelloMs {
          send(hello(now: now, session: 0))
          nextHelloMs = now + 1000
        }
      } else if now >= nextReadingMs {
        nextReadingMs += 100
        let echo = board.measureEchoMicroseconds()
        let reading = Reading(
          index: readingIndex, deviceTimeMs: now,
          distanceMm: UInt16(truncatingIfNeeded: (echo ?? 0) * 343 / 2000),
          status: echo == nil ? .noEcho : .ok)
        readingIndex &+= 1
        send(.reading(reading))
      }
    }
  }
#endif
