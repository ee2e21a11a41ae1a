/// A frame that passed every check of PROTOCOL.md 3.5, lent to the handler of
/// `FrameDecoder.decodeFrames`: its header fields and its payload, not yet turned into a `Message`.
///
/// It is small (about 24 bytes) where a `DecoderEvent` is about 300 (a `Message` is as large as a
/// READING_BATCH): a host that wants only readings pays for a 15-byte payload read, not for
/// building and copying the largest message per frame. The payload has been checked to decode, so
/// `reading`, `readingBatch` and `message` cannot fail for a frame of their type.
public struct DecodedFrame {
  /// The message type (byte 1 of the frame).
  public let type: MessageType
  /// The sender's sequence number.
  public let sequence: UInt16
  /// The payload bytes. They lie in the decoder's buffer: valid only until the handler returns.
  public let payload: UnsafeBufferPointer<UInt8>

  init(type: MessageType, sequence: UInt16, payload: UnsafeBufferPointer<UInt8>) {
    self.type = type
    self.sequence = sequence
    self.payload = payload
  }

  /// The READING this frame carries, or nil for any other type.
  @inlinable
  public var reading: Reading? {
    guard type == .reading, let base = payload.baseAddress else { return nil }
    // Field loads straight from the payload (its 15 bytes were checked by the decoder): hosts
    // inline this into their handler, so a reading costs four loads.
    let raw = UnsafeRawPointer(base)
    return Reading(
      index: UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)),
      deviceTimeMs: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt64.self)),
      distanceMm: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: UInt16.self)),
      status: ReadingStatus(known: raw.load(fromByteOffset: 14, as: UInt8.self)))
  }

  /// The READING_BATCH this frame carries, or nil for any other type.
  public var readingBatch: ReadingBatch? {
    guard type == .readingBatch else { return nil }
    var reader = PayloadReader(payload)
    do throws(PayloadError) {
      return try ReadingBatch(&reader)
    } catch {
      fatalError("a READING_BATCH the decoder checked does not decode")
    }
  }

  /// The READING_BATCH this frame carries, read in place (no 290-byte copy), or nil for any other type.
  @inlinable
  public var readingBatchView: ReadingBatchView? {
    guard type == .readingBatch else { return nil }
    return ReadingBatchView(checked: payload)
  }

  /// The message this frame carries (as `decode` would deliver it).
  public var message: Message {
    var reader = PayloadReader(payload)
    do throws(PayloadError) {
      return try Message.decodeChecked(type, &reader)
    } catch {
      fatalError("a payload the decoder checked does not decode")
    }
  }

  /// Whether a payload of `type`, of the type's fixed size when it has one, decodes (the last
  /// check of PROTOCOL.md 3.5), without building the message.
  ///
  /// READING and READING_BATCH, the frames a host receives by the million, are checked by reading
  /// only the bytes that can be wrong; the other types are decoded into their (small) struct and
  /// dropped, so their rules live in one place, their initialisers. `DecodedFrameTests` compares
  /// both fast checks with the initialisers on every status byte and on random batches.
  @inline(__always)
  static func payloadIsValid(_ type: MessageType, _ payload: UnsafeBufferPointer<UInt8>) -> Bool {
    var reader = PayloadReader(payload)
    switch type {
    case .reading: return ReadingStatus.isKnown(payload[14])
    case .readingBatch: return ReadingBatch.isValid(payload)
    case .connect: return (try? Connect(&reader)) != nil
    case .hello: return (try? Hello(&reader)) != nil
    case .heartbeat: return (try? Heartbeat(&reader)) != nil
    case .timeSyncRequest, .configure, .ack: return true
    case .timeSyncResponse: return (try? TimeSyncResponse(&reader)) != nil
    case .nack: return (try? Nack(&reader)) != nil
    case .fault: return (try? Fault(&reader)) != nil
    }
  }
}

/// A READING_BATCH read in place from a lent frame's payload, with `ReadingBatch`'s accessors:
/// a host that stores the samples one by one reads each from the payload, and no `ReadingBatch`
/// (45 entries inline, about 290 bytes) is built or copied. Valid only while the frame is.
public struct ReadingBatchView {
  /// The checked payload: 13 header bytes, then 5 bytes per entry.
  @usableFromInline let payload: UnsafeBufferPointer<UInt8>

  @inlinable
  init(checked payload: UnsafeBufferPointer<UInt8>) { self.payload = payload }

  /// The index of the first sample; sample i has index `firstIndex + i`.
  @inlinable
  public var firstIndex: UInt32 {
    UInt32(littleEndian: UnsafeRawPointer(payload.baseAddress!).loadUnaligned(as: UInt32.self))
  }

  /// The device clock at the first sample.
  @inlinable
  public var firstTimeMs: UInt64 {
    UInt64(littleEndian: UnsafeRawPointer(payload.baseAddress!).loadUnaligned(fromByteOffset: 4, as: UInt64.self))
  }

  /// How many samples the batch holds (1 to 45).
  @inlinable
  public var count: Int { Int(payload[12]) }

  /// The i-th entry as sent.
  @inlinable
  public func entry(_ i: Int) -> ReadingBatch.Entry {
    precondition(i >= 0 && i < count, "batch entry out of range")
    let raw = UnsafeRawPointer(payload.baseAddress!) + 13 + 5 &* i
    return ReadingBatch.Entry(
      offsetMs: UInt16(littleEndian: raw.loadUnaligned(as: UInt16.self)),
      distanceMm: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self)),
      status: ReadingStatus(known: raw.load(fromByteOffset: 4, as: UInt8.self)))
  }

  /// The i-th sample as a full reading.
  @inlinable
  public subscript(i: Int) -> Reading {
    let entry = entry(i)
    return Reading(
      index: firstIndex &+ UInt32(truncatingIfNeeded: i), deviceTimeMs: firstTimeMs &+ UInt64(entry.offsetMs),
      distanceMm: entry.distanceMm, status: entry.status)
  }
}

/// One outcome of `FrameDecoder.decodeFrames`: a frame lent to the handler, or a rejection.
public enum FrameEvent {
  /// A frame that passed every check; decode its message from it only if you need it.
  case frame(DecodedFrame)
  /// A candidate that failed a check, with its header when it was long enough to have one (as
  /// `decodeWithHeaders` reports it).
  case rejected(FrameRejection, header: FrameHeader?)
}
