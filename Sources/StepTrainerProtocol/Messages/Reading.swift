/// What a distance sample means (PROTOCOL.md 5.4). Only `ok` carries a distance.
public enum ReadingStatus: UInt8, Sendable {
  /// A valid distance within the sensor's range.
  case ok = 0
  /// An echo outside the sensor's range; the distance field is diagnostic only.
  case outOfRange = 1
  /// No echo; the distance field is meaningless.
  case noEcho = 2
  /// The sensor did not respond.
  case sensorFault = 3
}

extension ReadingStatus {
  /// Whether `init(rawValue:)` accepts `raw`, as one comparison: the synthesised initialiser is
  /// a call per frame on the decoder's fast path. `DecodedFrameTests` checks all 256 bytes.
  @inlinable
  static func isKnown(_ raw: UInt8) -> Bool { raw <= ReadingStatus.sensorFault.rawValue }

  /// The status of a byte that `isKnown` accepted, without an optional to unwrap.
  @inlinable
  init(known raw: UInt8) {
    switch raw {
    case 0: self = .ok
    case 1: self = .outOfRange
    case 2: self = .noEcho
    default: self = .sensorFault
    }
  }
}

/// READING (device to host): one distance sample.
public struct Reading: Hashable, Sendable {
  /// The device's sample counter since boot (+1 per sample; gaps are lost samples).
  public var index: UInt32
  /// The device clock at the sample, milliseconds since boot.
  public var deviceTimeMs: UInt64
  /// The measured distance in millimetres; meaningful only when `status` is `ok`.
  public var distanceMm: UInt16
  /// What the sample means.
  public var status: ReadingStatus

  /// A READING message.
  public init(index: UInt32, deviceTimeMs: UInt64, distanceMm: UInt16, status: ReadingStatus) {
    self.index = index
    self.deviceTimeMs = deviceTimeMs
    self.distanceMm = distanceMm
    self.status = status
  }

  /// The distance, or nil when the sample is not a valid distance.
  public var distance: UInt16? { status == .ok ? distanceMm : nil }

  init(_ reader: inout PayloadReader) throws(PayloadError) {
    index = reader.u32()
    deviceTimeMs = reader.u64()
    distanceMm = reader.u16()
    guard let status = ReadingStatus(rawValue: reader.u8()) else { throw .value }
    self.status = status
  }

  /// Writes the payload (MessagePayload).
  public func write(_ writer: inout PayloadWriter) {
    writer.u32(index)
    writer.u64(deviceTimeMs)
    writer.u16(distanceMm)
    writer.u8(status.rawValue)
  }
}
