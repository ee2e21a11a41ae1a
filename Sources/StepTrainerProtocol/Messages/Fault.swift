/// A fault's code; codes from 0x8000 up are vendor-specific.
public struct FaultCode: RawRepresentable, Hashable, Sendable {
  /// The code on the wire.
  public var rawValue: UInt16
  /// A fault code from its value.
  public init(rawValue: UInt16) { self.rawValue = rawValue }
  /// The sensor stopped answering.
  public static let sensorTimeout = FaultCode(rawValue: 1)
  /// The reading buffer overflowed; the detail is the number dropped so far.
  public static let bufferOverflow = FaultCode(rawValue: 2)
  /// The watchdog reset the device.
  public static let watchdogReset = FaultCode(rawValue: 3)
  /// The supply voltage dropped.
  public static let brownout = FaultCode(rawValue: 4)
  /// Stored settings were corrupt; defaults were restored.
  public static let settingsCorrupt = FaultCode(rawValue: 5)
  /// The device clock jumped.
  public static let clockJump = FaultCode(rawValue: 6)
}

/// How serious a fault is.
public enum FaultSeverity: UInt8, Sendable {
  case info = 0
  case warning = 1
  case error = 2
}

/// FAULT (device to host): something went wrong on the device (PROTOCOL.md 5.8).
public struct Fault: Hashable, Sendable {
  /// What happened.
  public var code: FaultCode
  /// How serious it is.
  public var severity: FaultSeverity
  /// A code-specific number (e.g. readings dropped).
  public var detail: UInt32
  /// When it happened, device ms since boot.
  public var deviceTimeMs: UInt64

  /// A FAULT message.
  public init(code: FaultCode, severity: FaultSeverity, detail: UInt32, deviceTimeMs: UInt64) {
    self.code = code
    self.severity = severity
    self.detail = detail
    self.deviceTimeMs = deviceTimeMs
  }

  init(_ reader: inout PayloadReader) throws(PayloadError) {
    code = FaultCode(rawValue: reader.u16())
    guard let severity = FaultSeverity(rawValue: reader.u8()) else { throw .value }
    self.severity = severity
    detail = reader.u32()
    deviceTimeMs = reader.u64()
  }

  /// Writes the payload (MessagePayload).
  public func write(_ writer: inout PayloadWriter) {
    writer.u16(code.rawValue)
    writer.u8(severity.rawValue)
    writer.u32(detail)
    writer.u64(deviceTimeMs)
  }
}
