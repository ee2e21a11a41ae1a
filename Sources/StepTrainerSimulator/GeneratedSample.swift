import StepTrainerProtocol

/// One sample as the device took it: the truth a host's capture is compared with.
public struct GeneratedSample: Hashable, Sendable {
  /// The boot the sample belongs to (indexes restart with each boot).
  public var bootId: UInt32
  /// The device's sample counter since boot.
  public var index: UInt32
  /// The device clock at the sample, milliseconds since boot.
  public var deviceTimeMs: UInt64
  /// The distance field as sent; meaningful only when `status` is `ok`.
  public var distanceMm: UInt16
  /// What the sample means.
  public var status: ReadingStatus

  /// A generated sample.
  public init(bootId: UInt32, index: UInt32, deviceTimeMs: UInt64, distanceMm: UInt16, status: ReadingStatus) {
    self.bootId = bootId
    self.index = index
    self.deviceTimeMs = deviceTimeMs
    self.distanceMm = distanceMm
    self.status = status
  }

  /// The sample as the READING that carries it.
  public var reading: Reading {
    Reading(index: index, deviceTimeMs: deviceTimeMs, distanceMm: distanceMm, status: status)
  }

  /// The sample as one line of NDJSON: bootId, index, deviceTimeMs, distanceMm and status by name.
  public var jsonLine: String {
    "{\"bootId\":\(bootId),\"index\":\(index),\"deviceTimeMs\":\(deviceTimeMs),\"distanceMm\":\(distanceMm),"
      + "\"status\":\"\(status.name)\"}"
  }
}

extension ReadingStatus {
  /// The status's name as PROTOCOL.md section 6 spells it.
  public var name: String {
    switch self {
    case .ok: "ok"
    case .outOfRange: "outOfRange"
    case .noEcho: "noEcho"
    case .sensorFault: "sensorFault"
    }
  }
}
