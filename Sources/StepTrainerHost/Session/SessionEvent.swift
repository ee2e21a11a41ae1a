import StepTrainerProtocol

/// Something a device session reports.
public enum SessionEvent: Sendable, Equatable {
  /// The handshake completed (or was redone) with this device.
  case connected(DeviceInfo)
  /// The device rebooted (new boot id): its clock and sample counter began again.
  case deviceRestarted(DeviceInfo)
  /// The first time sync, or a better one, set the device-to-wall-clock mapping.
  case clockSynchronised(offsetMs: Int64, delayMs: Int64)
  /// A sample, already mapped to wall-clock time.
  case reading(CapturedReading)
  /// Samples the device took that never arrived (a gap in its sample counter).
  case readingsLost(count: Int)
  /// The device reported a fault.
  case fault(Fault)
  /// A configuration was applied.
  case configured(Configure)
  /// A configuration was refused (nothing changed).
  case configurationRefused(Configure, NackReason)
  /// A configuration got no answer after every retry.
  case configurationUnanswered(Configure)
}
