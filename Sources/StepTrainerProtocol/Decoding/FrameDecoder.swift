/// The incremental frame decoder of PROTOCOL.md section 3.5.
///
/// Fed bytes in any slicing, it reports the same events. It looks for the next 0x00 delimiter
/// eight bytes at a time; a candidate that lies whole in the input is judged where it lies, and
/// only a candidate split across calls is buffered (at most 250 bytes). COBS is undone a block
/// at a time, not a byte at a time. A corrupt candidate is rejected and counted, never
/// delivered, and the next delimiter starts afresh: noise costs at most the frame it hits.
/// Storage is fixed, so decoding never allocates.
public struct FrameDecoder {
  /// The decoder's scalars, apart from the buffers so all three can be borrowed at once.
  struct State {
    var counters = DecoderCounters()
    /// Encoded bytes of a candidate that began in an earlier call.
    var partialCount = 0
    /// Set after an oversize rejection: bytes are dropped up to the next delimiter.
    var discarding = false
  }

  private var state = State()
  /// The encoded bytes of a candidate split across calls.
  private var partial = InlineArray<256, UInt8>(repeating: 0)
  /// The decoded frame; 8 bytes of slack beyond the largest frame let blocks be copied a word at a time.
  private var frame = InlineArray<264, UInt8>(repeating: 0)

  /// A decoder waiting for the first byte.
  public init() {}

  /// What the decoder has seen so far.
  public var counters: DecoderCounters { state.counters }

  /// Bytes received since the last delimiter and not yet judged (bytes being dropped after an
  /// oversize rejection are counted as discarded, not pending).
  public var pendingBytes: Int { state.partialCount }

  /// Decodes `bytes`, calling `handle` for each message or rejection, in order.
  public mutating func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ handle: (DecoderEvent) -> Void) {
    guard let input = bytes.baseAddress, !bytes.isEmpty else { return }
    var partialSpan = partial.mutableSpan
    var frameSpan = frame.mutableSpan
    partialSpan.withUnsafeMutableBufferPointer { partial in
      frameSpan.withUnsafeMutableBufferPointer { frame in
        Self.run(&state, partial.baseAddress!, frame.baseAddress!, input, bytes.count, handle)
      }
    }
  }

  /// Forgets the current candidate (e.g. when the port was reopened); counters are kept.
  public mutating func reset() {
    state.partialCount = 0
    state.discarding = false
  }

  private static func run(
    _ state: inout State, _ partial: UnsafeMutablePointer<UInt8>, _ frame: UnsafeMutablePointer<UInt8>,
    _ input: UnsafePointer<UInt8>, _ end: Int, _ handle: (DecoderEvent) -> Void
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
      let candidate = state.partialCount + run
      if candidate > FrameFormat.maxEncodedSize {
        state.counters[.oversize] += 1
        state.counters.bytesDiscarded += candidate
        state.partialCount = 0
        handle(.rejected(.oversize))
        if delimiter == end {
          state.discarding = true
          return
        }
      } else if delimiter == end {
        (partial + state.partialCount).update(from: input + position, count: run)
        state.partialCount = candidate
        return
      } else if state.partialCount > 0 {
        (partial + state.partialCount).update(from: input + position, count: run)
        state.partialCount = 0
        handle(judge(&state, UnsafePointer(partial), candidate, frame))
      } else if run > 0 {
        handle(judge(&state, input + position, run, frame))
      }
      position = delimiter + 1
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
      if zeros != 0 { return position + zeros.trailingZeroBitCount / 8 }
      position += 8
    }
    while position < end && input[position] != FrameFormat.delimiter { position += 1 }
    return position
  }

  /// Undoes COBS for one candidate (no 0x00 inside, at most 250 bytes) and judges the frame.
  private static func judge(
    _ state: inout State, _ encoded: UnsafePointer<UInt8>, _ count: Int, _ frame: UnsafeMutablePointer<UInt8>
  ) -> DecoderEvent {
    var position = 0
    var decoded = 0
    var complete = true
    while position < count {
      let code = Int(encoded[position])
      position += 1
      let length = code - 1
      guard length <= count - position else {
        complete = false
        break
      }
      copyBlock(from: encoded + position, length: length, available: count - position, to: frame + decoded)
      position += length
      decoded += length
      if code != 0xFF && position < count {
        frame[decoded] = 0
        decoded += 1
      }
    }
    let outcome = check(UnsafeBufferPointer(start: frame, count: decoded), cobsComplete: complete)
    switch outcome {
    case .message:
      state.counters.messages += 1
    case .rejected(let reason):
      state.counters[reason] += 1
      state.counters.bytesDiscarded += count
    }
    return outcome
  }

  /// Copies a COBS block's bytes, a word at a time where the source has at least 8 readable bytes
  /// left (the destination has 8 bytes of slack, so overshooting it is harmless).
  @inline(__always)
  private static func copyBlock(
    from source: UnsafePointer<UInt8>, length: Int, available: Int, to destination: UnsafeMutablePointer<UInt8>
  ) {
    var offset = 0
    while offset < length && available - offset >= 8 {
      let word = UnsafeRawPointer(source + offset).loadUnaligned(as: UInt64.self)
      UnsafeMutableRawPointer(destination + offset).storeBytes(of: word, as: UInt64.self)
      offset += 8
    }
    while offset < length {
      destination[offset] = source[offset]
      offset += 1
    }
  }

  /// Judges one decoded frame (PROTOCOL.md 3.5, in the order of its table).
  @inline(__always)
  static func check(_ frame: UnsafeBufferPointer<UInt8>, cobsComplete: Bool) -> DecoderEvent {
    guard cobsComplete else { return .rejected(.cobs) }
    let size = frame.count
    guard size >= FrameFormat.minFrameSize else { return .rejected(.tooShort) }
    guard frame[0] == FrameFormat.version else { return .rejected(.version) }
    guard Int(frame[4]) == size - FrameFormat.minFrameSize else { return .rejected(.length) }
    guard let type = MessageType(rawValue: frame[1]) else { return .rejected(.unknownType) }
    let covered = size - FrameFormat.crcSize
    var crc = CRC32C.update(CRC32C.initial, UnsafeBufferPointer(rebasing: frame[0..<covered]))
    crc = CRC32C.finalize(CRC32C.update(crc, byte: type.seed))
    let sent =
      UInt32(frame[covered]) | UInt32(frame[covered + 1]) << 8 | UInt32(frame[covered + 2]) << 16
      | UInt32(frame[covered + 3]) << 24
    guard crc == sent else { return .rejected(.crc) }
    let sequence = UInt16(frame[2]) | UInt16(frame[3]) << 8
    do {
      let message = try Message.decode(
        type, payload: UnsafeBufferPointer(rebasing: frame[FrameFormat.headerSize..<covered]))
      return .message(message, sequence: sequence)
    } catch {
      return .rejected(.payload)
    }
  }
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
