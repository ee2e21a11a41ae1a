import Checksums

/// The incremental frame decoder of PROTOCOL.md section 3.5.
///
/// Fed bytes in any slicing, it reports the same events. It looks for the next 0x00 delimiter
/// eight bytes at a time; a candidate that lies whole in the input is judged where it lies, and
/// only a candidate split across calls is buffered (at most 250 bytes). COBS is undone with one
/// bulk copy and a walk along the code bytes, not a byte at a time. A corrupt candidate is
/// rejected and counted, never delivered, and the next delimiter starts afresh: noise costs at
/// most the frame it hits. Storage is fixed, so decoding never allocates.
///
/// Two ways to receive: `decode`/`decodeWithHeaders` build each message into a `DecoderEvent`
/// (about 300 bytes, as large as a READING_BATCH); `decodeFrames` lends each frame as a small
/// `DecodedFrame` and lets the handler decode only what it uses, which is what makes single
/// READING frames cheap on a host. Both run the same loop and checks, so they accept, reject and
/// count alike.
public struct FrameDecoder {
  /// The decoder's scalars, apart from the buffers so all three can be borrowed at once.
  struct State {
    var counters = DecoderCounters()
    /// Encoded bytes of a candidate that began in an earlier call.
    var partialCount = 0
    /// Set after an oversize rejection: bytes are dropped up to the next delimiter.
    var discarding = false

    /// Counts a rejected candidate of `count` encoded bytes.
    @inline(__always)
    mutating func count(_ reason: FrameRejection, _ count: Int) {
      counters[reason] += 1
      counters.bytesDiscarded += count
    }
  }

  private var state = State()
  /// The encoded bytes of a candidate split across calls.
  private var partial = InlineArray<256, UInt8>(repeating: 0)
  /// The decoded frame (at most 249 bytes).
  private var frame = InlineArray<256, UInt8>(repeating: 0)

  /// A decoder waiting for the first byte.
  public init() {}

  /// What the decoder has seen so far.
  public var counters: DecoderCounters { state.counters }

  /// Bytes received since the last delimiter and not yet judged (bytes being dropped after an
  /// oversize rejection are counted as discarded, not pending).
  public var pendingBytes: Int { state.partialCount }

  /// Decodes `bytes`, calling `handle` for each message or rejection, in order.
  public mutating func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ handle: (DecoderEvent) -> Void) {
    decodeWithHeaders(bytes) { event, _ in handle(event) }
  }

  /// Decodes `bytes` like `decode`, and also hands over the header of each rejected frame that
  /// was long enough to have one (every rejection but oversize, cobs and tooShort): a device must
  /// name the type and sequence of a frame it refuses.
  public mutating func decodeWithHeaders(
    _ bytes: UnsafeBufferPointer<UInt8>, _ handle: (DecoderEvent, FrameHeader?) -> Void
  ) {
    withBuffers(bytes) { state, partial, frame, tables, input, end in
      Self.run(
        &state, partial, frame, tables, input, end,
        deliver: { type, sequence, payload in Self.deliverMessage(type, sequence, payload, handle) },
        reject: { reason, header in handle(.rejected(reason), header) })
    }
  }

  /// Decodes `bytes` like `decodeWithHeaders` (the same frames accepted, the same rejections and
  /// counters), but lends each valid frame to `handle` as a `DecodedFrame` instead of building its
  /// `Message`: the fast path for hosts, which decode only the messages they use.
  public mutating func decodeFrames(_ bytes: UnsafeBufferPointer<UInt8>, _ handle: (FrameEvent) -> Void) {
    withBuffers(bytes) { state, partial, frame, tables, input, end in
      Self.run(
        &state, partial, frame, tables, input, end,
        deliver: { type, sequence, payload in
          // Checked before it is lent, so the frame is accepted or rejected exactly as
          // `decodeWithHeaders` would, and its accessors cannot fail.
          guard DecodedFrame.payloadIsValid(type, payload) else { return false }
          handle(.frame(DecodedFrame(type: type, sequence: sequence, payload: payload)))
          return true
        },
        reject: { reason, header in handle(.rejected(reason, header: header)) })
    }
  }

  /// Forgets the current candidate (e.g. when the port was reopened); counters are kept.
  public mutating func reset() {
    state.partialCount = 0
    state.discarding = false
  }

  /// Runs `body` with the state, raw pointers to both buffers, the CRC tables and the input,
  /// unless the input is empty.
  ///
  /// The tables (nil in Embedded Swift, which uses CRC32C's small table) are fetched once per call:
  /// each use of `CRC32C.sliceTables` checks its lazy initialiser, which cost a few percent of a
  /// small frame.
  @inline(__always)
  private mutating func withBuffers(
    _ bytes: UnsafeBufferPointer<UInt8>,
    _ body: (
      inout State, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>, UnsafePointer<UInt32>?,
      UnsafePointer<UInt8>, Int
    ) -> Void
  ) {
    guard let input = bytes.baseAddress, !bytes.isEmpty else { return }
    var partialSpan = partial.mutableSpan
    var frameSpan = frame.mutableSpan
    partialSpan.withUnsafeMutableBufferPointer { partial in
      frameSpan.withUnsafeMutableBufferPointer { frame in
        #if hasFeature(Embedded)
          body(&state, partial.baseAddress!, frame.baseAddress!, nil, input, bytes.count)
        #else
          CRC32C.sliceTables.withUnsafeBufferPointer { tables in
            body(&state, partial.baseAddress!, frame.baseAddress!, tables.baseAddress!, input, bytes.count)
          }
        #endif
      }
    }
  }

  /// What `examine` found in one candidate.
  enum Verdict {
    /// Every check up to the payload's definition passed; the payload is at `frame[5...]`.
    case frame(MessageType, sequence: UInt16, payloadCount: Int)
    /// A check failed (not yet counted).
    case rejected(FrameRejection, FrameHeader?)
  }

  /// The loop shared by every entry point: finds candidates, buffers a split one, and judges each.
  ///
  /// `deliver` gets each frame that passed every check up to the payload's; it hands the frame
  /// over and returns true, or returns false when the payload breaks its message's definition
  /// (then the frame is rejected as `payload`). `reject` reports a rejection the loop has counted.
  /// Inlined into each entry point, with the checks returning a small verdict instead of calling
  /// the closures themselves: so both closures are called from here, inlined, and the per-frame
  /// work is straight-line code without indirect calls.
  @_transparent
  private static func run(
    _ state: inout State, _ partial: UnsafeMutablePointer<UInt8>, _ frame: UnsafeMutablePointer<UInt8>,
    _ tables: UnsafePointer<UInt32>?, _ input: UnsafePointer<UInt8>, _ end: Int,
    deliver: (MessageType, UInt16, UnsafeBufferPointer<UInt8>) -> Bool,
    reject: (FrameRejection, FrameHeader?) -> Void
  ) {
    var position = 0
    while position < end {
      let delimiter = firstDelimiter(input, from: position, end: end)
      let run = delimiter - position
      if state.discarding {
        state.counters.bytesDiscarded += run
        if delimiter == end { return }
        state.discarding = false
        position = delimiter + 1
        continue
      }
      let count = state.partialCount + run
      let encoded: UnsafePointer<UInt8>
      if count > FrameFormat.maxEncodedSize {
        state.partialCount = 0
        state.count(.oversize, count)
        reject(.oversize, nil)
        if delimiter == end {
          state.discarding = true
          return
        }
        position = delimiter + 1
        continue
      } else if delimiter == end {
        (partial + state.partialCount).update(from: input + position, count: run)
        state.partialCount = count
        return
      } else if state.partialCount > 0 {
        (partial + state.partialCount).update(from: input + position, count: run)
        state.partialCount = 0
        encoded = UnsafePointer(partial)
      } else if run > 0 {
        encoded = input + position
      } else {
        position = delimiter + 1
        continue
      }
      position = delimiter + 1
      // One place that judges a candidate, whether it lay whole in the input or was buffered, so
      // the closures are inlined once, here, and nothing per frame is an indirect call.
      switch examine(encoded, count, frame, tables) {
      case .frame(let type, let sequence, let payloadCount):
        if deliver(type, sequence, UnsafeBufferPointer(start: frame + FrameFormat.headerSize, count: payloadCount)) {
          state.counters.messages += 1
        } else {
          state.count(.payload, count)
          reject(.payload, FrameHeader(version: FrameFormat.version, type: type.rawValue, sequence: sequence))
        }
      case .rejected(let reason, let header):
        state.count(reason, count)
        reject(reason, header)
      }
    }
  }

  /// The index of the first 0x00 at or after `from`, or `end`.
  @inline(__always)
  private static func firstDelimiter(_ input: UnsafePointer<UInt8>, from: Int, end: Int) -> Int {
    var position = from
    // Eight bytes at a time: (w - 0x01...) & ~w & 0x80... is non-zero exactly when w has a zero
    // byte, and its lowest set bit marks the first one.
    while end - position >= 8 {
      let word = UInt64(littleEndian: UnsafeRawPointer(input + position).loadUnaligned(as: UInt64.self))
      let zeros = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
      if zeros != 0 { return position &+ zeros.trailingZeroBitCount &>> 3 }
      position &+= 8
    }
    while position < end && input[position] != FrameFormat.delimiter { position &+= 1 }
    return position
  }

  /// Undoes COBS for one candidate (no 0x00 inside, 1 to 250 bytes) into `frame` and runs the
  /// checks of PROTOCOL.md 3.5 in the order of its table, all but the payload's definition.
  @inline(__always)
  private static func examine(
    _ encoded: UnsafePointer<UInt8>, _ count: Int, _ frame: UnsafeMutablePointer<UInt8>,
    _ tables: UnsafePointer<UInt32>?
  ) -> Verdict {
    guard let (size, coveredCRC) = undoCOBS(encoded, count, into: frame, tables) else { return .rejected(.cobs, nil) }
    guard size >= FrameFormat.minFrameSize else { return .rejected(.tooShort, nil) }
    let header = FrameHeader(version: frame[0], type: frame[1], sequence: UInt16(frame[2]) | UInt16(frame[3]) << 8)
    guard frame[0] == FrameFormat.version else { return .rejected(.version, header) }
    guard Int(frame[4]) == size &- FrameFormat.minFrameSize else { return .rejected(.length, header) }
    guard let type = MessageType(wire: frame[1]) else { return .rejected(.unknownType, header) }
    let covered = size &- FrameFormat.crcSize
    #if hasFeature(Embedded)
      let crc = CRC32C.finalize(CRC32C.update(coveredCRC, byte: type.seed))
    #else
      let seeded =
        (coveredCRC &>> 8) ^ tables.unsafelyUnwrapped[Int(truncatingIfNeeded: (coveredCRC ^ UInt32(type.seed)) & 0xFF)]
      let crc = CRC32C.finalize(seeded)
    #endif
    let sent = UInt32(littleEndian: UnsafeRawPointer(frame + covered).loadUnaligned(as: UInt32.self))
    guard crc == sent else { return .rejected(.crc, header) }
    let payloadCount = covered &- FrameFormat.headerSize
    if let fixed = type.fixedPayloadSize, payloadCount != fixed { return .rejected(.payload, header) }
    return .frame(type, sequence: header.sequence, payloadCount: payloadCount)
  }

  /// Builds the message of a checked frame and hands it to a `decodeWithHeaders` handler; false
  /// when the payload breaks the message's definition.
  ///
  /// Every message is built where it is handed over, never returned through a chain of calls: a
  /// `DecoderEvent` is about 300 bytes (a reading batch holds 45 entries inline), copying it a few
  /// times per frame used to cost more than all the rest of decoding a small frame, and going
  /// through `Message.decodeChecked` would cost a device's small stack another such temporary.
  @inline(__always)
  private static func deliverMessage(
    _ type: MessageType, _ sequence: UInt16, _ payload: UnsafeBufferPointer<UInt8>,
    _ handle: (DecoderEvent, FrameHeader?) -> Void
  ) -> Bool {
    @inline(__always) func hand(_ message: Message) { handle(.message(message, sequence: sequence), nil) }
    var reader = PayloadReader(payload)
    do throws(PayloadError) {
      switch type {
      case .connect: try hand(.connect(Connect(&reader)))
      case .hello: try hand(.hello(Hello(&reader)))
      case .heartbeat: try hand(.heartbeat(Heartbeat(&reader)))
      case .reading: try hand(.reading(Reading(&reader)))
      case .readingBatch: try hand(.readingBatch(ReadingBatch(&reader)))
      case .timeSyncRequest: hand(.timeSyncRequest(TimeSyncRequest(&reader)))
      case .timeSyncResponse: try hand(.timeSyncResponse(TimeSyncResponse(&reader)))
      case .configure: hand(.configure(Configure(&reader)))
      case .ack: hand(.ack(Ack(&reader)))
      case .nack: try hand(.nack(Nack(&reader)))
      case .fault: try hand(.fault(Fault(&reader)))
      }
      return true
    } catch {
      return false
    }
  }

  /// Undoes COBS: the frame's size and the CRC register over all but its last 4 bytes (the CRC
  /// field; the type's seed byte is still to come), or nil when a code byte points past the
  /// candidate's end.
  ///
  /// A code byte c at i is followed by c - 1 data bytes and, unless it ends the candidate, stands
  /// for a 0x00 at i + c - 1 of the frame. So the frame is the candidate without its first byte,
  /// with 0x00 where later code bytes were: a bulk copy and a walk along the chain of codes, not
  /// a loop over bytes. A 0xFF code (254 data bytes and no 0x00) cannot fit in a candidate of at
  /// most 250 bytes, so the walk never meets one that it must honour: it points past the end and
  /// fails as it should.
  @inline(__always)
  private static func undoCOBS(
    _ encoded: UnsafePointer<UInt8>, _ count: Int, into frame: UnsafeMutablePointer<UInt8>,
    _ tables: UnsafePointer<UInt32>?
  ) -> (size: Int, crc: UInt32)? {
    assert(count >= 1 && count <= FrameFormat.maxEncodedSize && FrameFormat.maxEncodedSize < 0xFF)
    #if hasFeature(Embedded)
      return undoCOBSPatching(encoded, count, into: frame, tables)
    #else
      return count <= 64
        ? undoCOBSMasked(encoded, count, into: frame, tables.unsafelyUnwrapped)
        : undoCOBSPatching(encoded, count, into: frame, tables)
    #endif
  }

  /// `undoCOBS` by a bulk copy, then the walk writes each 0x00 in place, then the CRC. On a long
  /// frame the walk takes long enough that its 1-byte stores have reached the cache before the
  /// CRC's word loads come to them.
  @inline(__always)
  private static func undoCOBSPatching(
    _ encoded: UnsafePointer<UInt8>, _ count: Int, into frame: UnsafeMutablePointer<UInt8>,
    _ tables: UnsafePointer<UInt32>?
  ) -> (size: Int, crc: UInt32)? {
    let size = count &- 1
    let from = UnsafeRawPointer(encoded + 1)
    let to = UnsafeMutableRawPointer(frame)
    var offset = 0
    while size &- offset >= 16 {
      let low = from.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
      let high = from.loadUnaligned(fromByteOffset: offset &+ 8, as: UInt64.self)
      to.storeBytes(of: low, toByteOffset: offset, as: UInt64.self)
      to.storeBytes(of: high, toByteOffset: offset &+ 8, as: UInt64.self)
      offset &+= 16
    }
    if size &- offset >= 8 {
      to.storeBytes(
        of: from.loadUnaligned(fromByteOffset: offset, as: UInt64.self), toByteOffset: offset, as: UInt64.self)
      offset &+= 8
    }
    while offset < size {
      frame[offset] = encoded[offset &+ 1]
      offset &+= 1
    }
    var code = Int(encoded[0])
    while code < count {
      frame[code &- 1] = 0
      code &+= Int(encoded[code])
    }
    guard code == count else { return nil }
    let covered = max(0, size &- FrameFormat.crcSize)
    #if hasFeature(Embedded)
      return (size, CRC32C.update(CRC32C.initial, UnsafeBufferPointer(start: frame, count: covered)))
    #else
      return (size, CRC32C.updateSliced(CRC32C.initial, frame, covered, tables: tables.unsafelyUnwrapped))
    #endif
  }

  #if !hasFeature(Embedded)
    /// `undoCOBS` for candidates of at most 64 bytes (a READING is 25). On a short frame the CRC
    /// would start right after the walk, and each of its word loads that overlaps a 1-byte store
    /// still on its way to the cache stalls. So the walk only reads the candidate and marks the
    /// zeros in a 64-bit mask; the copy then writes each 8-byte word once, zeros included, and
    /// feeds the same words to the CRC from registers, 16 bytes at a time.
    @inline(__always)
    private static func undoCOBSMasked(
      _ encoded: UnsafePointer<UInt8>, _ count: Int, into frame: UnsafeMutablePointer<UInt8>,
      _ tables: UnsafePointer<UInt32>
    ) -> (size: Int, crc: UInt32)? {
      // Bit k: frame[k] is a reinstated 0x00 (k < count - 1 <= 63).
      var zeros: UInt64 = 0
      var code = Int(encoded[0])
      while code < count {
        zeros |= 1 &<< UInt64(code &- 1)
        code &+= Int(encoded[code])
      }
      guard code == count else { return nil }
      let size = count &- 1
      let covered = max(0, size &- FrameFormat.crcSize)
      let from = UnsafeRawPointer(encoded + 1)
      let to = UnsafeMutableRawPointer(frame)
      var crc = CRC32C.initial
      var offset = 0
      @inline(__always) func copyWord() -> UInt64 {
        let word = from.loadUnaligned(fromByteOffset: offset, as: UInt64.self) & ~UInt64(littleEndian: byteMask(zeros))
        to.storeBytes(of: word, toByteOffset: offset, as: UInt64.self)
        offset &+= 8
        zeros &>>= 8
        return UInt64(littleEndian: word)
      }
      while covered &- offset >= 16 {
        let low = copyWord()
        crc = CRC32C.step16(crc, low, copyWord(), tables)
      }
      let crcDone = offset
      while size &- offset >= 8 { _ = copyWord() }
      while offset < size {
        frame[offset] = zeros & 1 == 0 ? encoded[offset &+ 1] : 0
        zeros &>>= 1
        offset &+= 1
      }
      // The rest of the CRC from the frame: loads that the whole stores above serve.
      crc = CRC32C.updateSliced(crc, frame + crcDone, covered &- crcDone, tables: tables)
      return (size, crc)
    }

    /// 0xFF in byte i of the result for each bit i set in the low byte of `bits`.
    @inline(__always)
    private static func byteMask(_ bits: UInt64) -> UInt64 {
      var x = bits & 0xFF
      x = (x | x &<< 28) & 0x0000_000F_0000_000F
      x = (x | x &<< 14) & 0x0003_0003_0003_0003
      x = (x | x &<< 7) & 0x0101_0101_0101_0101
      return x &* 0xFF
    }
  #endif
}

#if !hasFeature(Embedded)
  extension FrameDecoder {
    /// Decodes `bytes` and returns the events, in order.
    public mutating func decode(_ bytes: some Collection<UInt8>) -> [DecoderEvent] {
      var events: [DecoderEvent] = []
      let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
        decode(buffer) { events.append($0) }
      }
      if done == nil {
        Array(bytes).withUnsafeBufferPointer { buffer in decode(buffer) { events.append($0) } }
      }
      return events
    }
  }
#endif
