/// The message types of PROTOCOL.md section 5, with their CRC seeds and payload sizes.
public enum MessageType: UInt8, Sendable, CaseIterable {
  case connect = 0x01
  case hello = 0x02
  case heartbeat = 0x03
  case reading = 0x10
  case readingBatch = 0x11
  case timeSyncRequest = 0x20
  case timeSyncResponse = 0x21
  case configure = 0x30
  case ack = 0x40
  case nack = 0x41
  case fault = 0x50

  /// The type of a frame's type byte, or nil when unknown: `init(rawValue:)` as a switch the
  /// decoder inlines (the synthesised initialiser stayed a call per frame).
  @inline(__always)
  init?(wire raw: UInt8) {
    switch raw {
    case 0x01: self = .connect
    case 0x02: self = .hello
    case 0x03: self = .heartbeat
    case 0x10: self = .reading
    case 0x11: self = .readingBatch
    case 0x20: self = .timeSyncRequest
    case 0x21: self = .timeSyncResponse
    case 0x30: self = .configure
    case 0x40: self = .ack
    case 0x41: self = .nack
    case 0x50: self = .fault
    default: return nil
    }
  }

  /// The byte appended to the CRC input: the low byte of CRC-32C of the message's signature
  /// (`MessageTypeTests` recomputes every one from `signature`).
  @inline(__always)
  public var seed: UInt8 {
    switch self {
    case .connect: 0x86
    case .hello: 0x86
    case .heartbeat: 0x34
    case .reading: 0x80
    case .readingBatch: 0xB1
    case .timeSyncRequest: 0x3D
    case .timeSyncResponse: 0x5B
    case .configure: 0xF7
    case .ack: 0xF7
    case .nack: 0x11
    case .fault: 0x17
    }
  }

  /// The payload size every frame of this type has; nil for the variable-size reading batch.
  @inline(__always)
  public var fixedPayloadSize: Int? {
    switch self {
    case .connect: 5
    case .hello: 45
    case .heartbeat: 15
    case .reading: 15
    case .readingBatch: nil
    case .timeSyncRequest: 8
    case .timeSyncResponse: 24
    case .configure: 3
    case .ack: 3
    case .nack: 4
    case .fault: 15
    }
  }

  /// The message's name and fields in order, as PROTOCOL.md section 5 lists them.
  public var signature: StaticString {
    switch self {
    case .connect: "CONNECT u8 protocolVersion u32 sessionId"
    case .hello:
      "HELLO u8 protocolVersion uuid serialNumber u8 firmwareMajor u8 firmwareMinor u8 firmwarePatch u8 sensorKind u16 sampleRateCentihertz u16 minDistanceMm u16 maxDistanceMm u64 deviceTimeMs u32 sessionId u32 bootId u16 bufferCapacity"
    case .heartbeat: "HEARTBEAT u64 timeMs u8 state u16 buffered u32 dropped"
    case .reading: "READING u32 index u64 deviceTimeMs u16 distanceMm u8 status"
    case .readingBatch:
      "READING_BATCH u32 firstIndex u64 firstTimeMs u8 count [u16 offsetMs u16 distanceMm u8 status]"
    case .timeSyncRequest: "TIME_SYNC_REQUEST u64 t1"
    case .timeSyncResponse: "TIME_SYNC_RESPONSE u64 t1 u64 t2 u64 t3"
    case .configure: "CONFIGURE u16 sampleRateCentihertz u8 batchSize"
    case .ack: "ACK u8 answeredType u16 answeredSequence"
    case .nack: "NACK u8 answeredType u16 answeredSequence u8 reason"
    case .fault: "FAULT u16 code u8 severity u32 detail u64 deviceTimeMs"
    }
  }
}
