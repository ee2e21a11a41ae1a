/// HELLO (device to host): the device's identity, configuration and clock (PROTOCOL.md 5.2).
public struct Hello: Hashable, Sendable {
  /// The protocol version the device speaks.
  public var protocolVersion: UInt8
  /// The device's serial number, which becomes `serialNumber` in the lake.
  public var serialNumber: DeviceSerialNumber
  /// Firmware version, major part.
  public var firmwareMajor: UInt8
  /// Firmware version, minor part.
  public var firmwareMinor: UInt8
  /// Firmware version, patch part.
  public var firmwarePatch: UInt8
  /// The distance sensor's kind.
  public var sensorKind: SensorKind
  /// The current sample rate in hundredths of a hertz (100 to 1,600).
  public var sampleRateCentihertz: UInt16
  /// The smallest distance the sensor measures.
  public var minDistanceMm: UInt16
  /// The largest distance the sensor measures.
  public var maxDistanceMm: UInt16
  /// The device clock when the frame was built, milliseconds since boot.
  public var deviceTimeMs: UInt64
  /// The CONNECT being answered; 0 for an unsolicited HELLO.
  public var sessionId: UInt32
  /// Random per boot, never 0: a new value means the device restarted.
  public var bootId: UInt32
  /// How many readings the device's buffer holds.
  public var bufferCapacity: UInt16

  /// A HELLO message.
  public init(
    protocolVersion: UInt8 = FrameFormat.version, serialNumber: DeviceSerialNumber, firmwareMajor: UInt8,
    firmwareMinor: UInt8, firmwarePatch: UInt8, sensorKind: SensorKind, sampleRateCentihertz: UInt16,
    minDistanceMm: UInt16, maxDistanceMm: UInt16, deviceTimeMs: UInt64, sessionId: UInt32, bootId: UInt32,
    bufferCapacity: UInt16
  ) {
    self.protocolVersion = protocolVersion
    self.serialNumber = serialNumber
    self.firmwareMajor = firmwareMajor
    self.firmwareMinor = firmwareMinor
    self.firmwarePatch = firmwarePatch
    self.sensorKind = sensorKind
    self.sampleRateCentihertz = sampleRateCentihertz
    self.minDistanceMm = minDistanceMm
    self.maxDistanceMm = maxDistanceMm
    self.deviceTimeMs = deviceTimeMs
    self.sessionId = sessionId
    self.bootId = bootId
    self.bufferCapacity = bufferCapacity
  }

  /// The valid sample rates, in hundredths of a hertz.
  public static let sampleRateRange: ClosedRange<UInt16> = 100...1600

  init(_ reader: inout PayloadReader) throws(PayloadError) {
    protocolVersion = reader.u8()
    serialNumber = reader.serialNumber()
    firmwareMajor = reader.u8()
    firmwareMinor = reader.u8()
    firmwarePatch = reader.u8()
    sensorKind = SensorKind(rawValue: reader.u8())
    sampleRateCentihertz = reader.u16()
    minDistanceMm = reader.u16()
    maxDistanceMm = reader.u16()
    deviceTimeMs = reader.u64()
    sessionId = reader.u32()
    bootId = reader.u32()
    bufferCapacity = reader.u16()
    // Only what a host cannot work with is rejected; an odd rate or boot id is the device's to report.
    guard minDistanceMm < maxDistanceMm else { throw .value }
  }

  /// Writes the payload (MessagePayload).
  public func write(_ writer: inout PayloadWriter) {
    writer.u8(protocolVersion)
    writer.serialNumber(serialNumber)
    writer.u8(firmwareMajor)
    writer.u8(firmwareMinor)
    writer.u8(firmwarePatch)
    writer.u8(sensorKind.rawValue)
    writer.u16(sampleRateCentihertz)
    writer.u16(minDistanceMm)
    writer.u16(maxDistanceMm)
    writer.u64(deviceTimeMs)
    writer.u32(sessionId)
    writer.u32(bootId)
    writer.u16(bufferCapacity)
  }
}
