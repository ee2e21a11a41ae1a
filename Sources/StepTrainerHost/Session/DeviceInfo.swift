import StepTrainerProtocol

/// What a device said about itself in its HELLO.
public struct DeviceInfo: Sendable, Equatable {
  /// The serial number as the lake writes it (lowercase UUID text).
  public var serialNumber: String
  /// The HELLO itself.
  public var hello: Hello

  /// Device information from a HELLO.
  public init(hello: Hello) {
    self.hello = hello
    serialNumber = hello.serialNumber.description
  }

  /// The sample rate in hertz.
  public var sampleRate: Double { Double(hello.sampleRateCentihertz) / 100 }

  /// Firmware version as text.
  public var firmwareVersion: String { "\(hello.firmwareMajor).\(hello.firmwareMinor).\(hello.firmwarePatch)" }
}
