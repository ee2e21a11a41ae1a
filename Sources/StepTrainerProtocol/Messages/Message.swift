/// Any message of the protocol.
public enum Message: Sendable, Equatable {
  case connect(Connect)
  case hello(Hello)
  case heartbeat(Heartbeat)
  case reading(Reading)
  case readingBatch(ReadingBatch)
  case timeSyncRequest(TimeSyncRequest)
  case timeSyncResponse(TimeSyncResponse)
  case configure(Configure)
  case ack(Ack)
  case nack(Nack)
  case fault(Fault)

  /// The message's type byte.
  public var type: MessageType {
    switch self {
    case .connect: .connect
    case .hello: .hello
    case .heartbeat: .heartbeat
    case .reading: .reading
    case .readingBatch: .readingBatch
    case .timeSyncRequest: .timeSyncRequest
    case .timeSyncResponse: .timeSyncResponse
    case .configure: .configure
    case .ack: .ack
    case .nack: .nack
    case .fault: .fault
    }
  }

  /// Decodes a payload of a known type; throws when its size or a field breaks the protocol.
  public static func decode(_ type: MessageType, payload: UnsafeBufferPointer<UInt8>) throws(PayloadError) -> Message {
    if let size = type.fixedPayloadSize, payload.count != size { throw .size }
    var reader = PayloadReader(payload)
    return try decodeChecked(type, &reader)
  }

  static func decodeChecked(_ type: MessageType, _ reader: inout PayloadReader) throws(PayloadError) -> Message {
    switch type {
    case .connect: return .connect(try Connect(&reader))
    case .hello: return .hello(try Hello(&reader))
    case .heartbeat: return .heartbeat(try Heartbeat(&reader))
    case .reading: return .reading(try Reading(&reader))
    case .readingBatch: return .readingBatch(try ReadingBatch(&reader))
    case .timeSyncRequest: return .timeSyncRequest(TimeSyncRequest(&reader))
    case .timeSyncResponse: return .timeSyncResponse(try TimeSyncResponse(&reader))
    case .configure: return .configure(Configure(&reader))
    case .ack: return .ack(Ack(&reader))
    case .nack: return .nack(try Nack(&reader))
    case .fault: return .fault(try Fault(&reader))
    }
  }

  /// Writes the payload; returns its size.
  public func writePayload(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
    var writer = PayloadWriter(buffer)
    switch self {
    case .connect(let m): m.write(&writer)
    case .hello(let m): m.write(&writer)
    case .heartbeat(let m): m.write(&writer)
    case .reading(let m): m.write(&writer)
    case .readingBatch(let m): m.write(&writer)
    case .timeSyncRequest(let m): m.write(&writer)
    case .timeSyncResponse(let m): m.write(&writer)
    case .configure(let m): m.write(&writer)
    case .ack(let m): m.write(&writer)
    case .nack(let m): m.write(&writer)
    case .fault(let m): m.write(&writer)
    }
    return writer.count
  }
}
