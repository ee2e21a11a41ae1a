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

/// One outcome of `FrameDecoder.decodeFrames`: a frame lent to the handler, or a rejection.
public enum FrameEvent {
  /// A frame that passed every check; decode its message from it only if you need it.
  case frame(DecodedFrame)
  /// A candidate that failed a check, with its header when it was long enough to have one (as
  /// `decodeWithHeaders` reports it).
  case rejected(FrameRejection, header: FrameHeader?)
}
