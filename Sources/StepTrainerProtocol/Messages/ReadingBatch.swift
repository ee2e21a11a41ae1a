/// READING_BATCH (device to host): up to 45 consecutive samples in one frame (PROTOCOL.md 5.4).
public struct ReadingBatch: Sendable {
  /// One sample of a batch, relative to the batch's first.
  public struct Entry: Hashable, Sendable {
    /// Milliseconds after the batch's first sample.
    public var offsetMs: UInt16
    /// The measured distance; meaningful only when `status` is `ok`.
    public var distanceMm: UInt16
    /// What the sample means.
    public var status: ReadingStatus

    /// A batch entry.
    public init(offsetMs: UInt16, distanceMm: UInt16, status: ReadingStatus) {
      self.offsetMs = offsetMs
      self.distanceMm = distanceMm
      self.status = status
    }
  }

  /// The most samples one batch carries (13 + 5 × 45 = 238 payload bytes).
  public static let capacity = 45
  /// Payload bytes before the entries.
  static let headerSize = 13
  /// Payload bytes per entry.
  static let entrySize = 5

  /// The index of the first sample; sample i has index `firstIndex + i`.
  public var firstIndex: UInt32
  /// The device clock at the first sample.
  public var firstTimeMs: UInt64
  /// How many samples the batch holds.
  public private(set) var count: Int = 0
  // Fixed storage, so a batch is a value without heap allocation (Embedded Swift, decoder hot path).
  private var entries = InlineArray<45, Entry>(repeating: Entry(offsetMs: 0, distanceMm: 0, status: .ok))

  /// An empty batch starting at a sample.
  public init(firstIndex: UInt32, firstTimeMs: UInt64) {
    self.firstIndex = firstIndex
    self.firstTimeMs = firstTimeMs
  }

  /// Whether another sample fits.
  public var isFull: Bool { count == Self.capacity }

  /// Appends a sample; returns false when the batch is full or the offset would not fit or decrease.
  @discardableResult
  public mutating func append(_ entry: Entry) -> Bool {
    guard count < Self.capacity else { return false }
    if count == 0 {
      guard entry.offsetMs == 0 else { return false }
    } else if entry.offsetMs < entries[count - 1].offsetMs {
      return false
    }
    entries[count] = entry
    count += 1
    return true
  }

  /// Appends a sample given as a full reading; false when it is not the batch's next sample or does not fit.
  @discardableResult
  public mutating func append(_ reading: Reading) -> Bool {
    guard reading.index == firstIndex &+ UInt32(truncatingIfNeeded: count), reading.deviceTimeMs >= firstTimeMs,
      reading.deviceTimeMs - firstTimeMs <= UInt64(UInt16.max)
    else { return false }
    return append(
      Entry(
        offsetMs: UInt16(reading.deviceTimeMs - firstTimeMs), distanceMm: reading.distanceMm, status: reading.status))
  }

  /// The i-th entry as stored.
  public func entry(_ i: Int) -> Entry { entries[i] }

  /// The i-th sample as a full reading.
  public subscript(i: Int) -> Reading {
    let entry = entries[i]
    return Reading(
      index: firstIndex &+ UInt32(truncatingIfNeeded: i), deviceTimeMs: firstTimeMs &+ UInt64(entry.offsetMs),
      distanceMm: entry.distanceMm, status: entry.status)
  }

  var payloadSize: Int { Self.headerSize + Self.entrySize * count }

  init(_ reader: inout PayloadReader) throws(PayloadError) {
    guard reader.remaining >= Self.headerSize else { throw .size }
    firstIndex = reader.u32()
    firstTimeMs = reader.u64()
    let declared = Int(reader.u8())
    guard declared >= 1, declared <= Self.capacity, reader.remaining == declared * Self.entrySize else { throw .size }
    for _ in 0..<declared {
      let offset = reader.u16()
      let distance = reader.u16()
      guard let status = ReadingStatus(rawValue: reader.u8()),
        append(Entry(offsetMs: offset, distanceMm: distance, status: status))
      else { throw .value }
    }
  }

  /// Whether `init(_:)` would accept `payload`, without building the batch: the decoder checks a
  /// batch this way before lending it (`FrameDecoder.decodeFrames`), so a host that reads the batch
  /// builds it once, and one that does not never copies its 45 entries. Mirrors the rules above and
  /// in `append`: 1 to 45 entries filling the payload, known statuses, offsets from 0, never decreasing.
  static func isValid(_ payload: UnsafeBufferPointer<UInt8>) -> Bool {
    guard payload.count >= headerSize else { return false }
    let declared = Int(payload[headerSize - 1])
    guard declared >= 1, declared <= capacity, payload.count - headerSize == declared * entrySize else {
      return false
    }
    var previous: UInt16 = 0
    var at = headerSize
    for i in 0..<declared {
      let offset = UInt16(payload[at]) | UInt16(payload[at + 1]) << 8
      guard ReadingStatus.isKnown(payload[at + 4]), offset >= previous, i > 0 || offset == 0 else {
        return false
      }
      previous = offset
      at += entrySize
    }
    return true
  }

  /// Writes the payload (MessagePayload).
  public func write(_ writer: inout PayloadWriter) {
    Self.write(firstIndex: firstIndex, firstTimeMs: firstTimeMs, count: count, into: &writer) { entries[$0] }
  }

  /// Writes a READING_BATCH payload of `count` (1 to 45) entries given one at a time, without
  /// building a batch: a device streams from its own storage straight into the frame, and a
  /// `ReadingBatch` value (about 290 bytes) never has to sit on its small stack.
  public static func write(
    firstIndex: UInt32, firstTimeMs: UInt64, count: Int, into writer: inout PayloadWriter, entry: (Int) -> Entry
  ) {
    precondition(count <= capacity, "a READING_BATCH holds at most 45 entries")
    writer.u32(firstIndex)
    writer.u64(firstTimeMs)
    writer.u8(UInt8(count))
    for i in 0..<count {
      let entry = entry(i)
      writer.u16(entry.offsetMs)
      writer.u16(entry.distanceMm)
      writer.u8(entry.status.rawValue)
    }
  }
}

extension ReadingBatch: Equatable {
  /// Batches are equal when they hold the same samples (unused capacity is ignored).
  public static func == (lhs: ReadingBatch, rhs: ReadingBatch) -> Bool {
    guard lhs.firstIndex == rhs.firstIndex, lhs.firstTimeMs == rhs.firstTimeMs, lhs.count == rhs.count else {
      return false
    }
    for i in 0..<lhs.count where lhs.entries[i] != rhs.entries[i] { return false }
    return true
  }
}
