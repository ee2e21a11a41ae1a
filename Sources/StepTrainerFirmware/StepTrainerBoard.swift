import StepTrainerProtocol

/// Persistent settings a device keeps across reboots.
public struct FirmwareSettings: Equatable {
  /// Sample rate in hundredths of a hertz (100 to 1,600).
  public var sampleRateCentihertz: UInt16
  /// Readings per frame (1 to 45).
  public var batchSize: UInt8

  /// Settings with the given values.
  public init(sampleRateCentihertz: UInt16 = 1000, batchSize: UInt8 = 1) {
    self.sampleRateCentihertz = sampleRateCentihertz
    self.batchSize = batchSize
  }
}

/// What the firmware needs from the hardware: the board layer implements it for a real (or
/// emulated) microcontroller, tests implement it with a fake. Generic, never an existential, so
/// the firmware compiles as Embedded Swift with everything specialised.
public protocol StepTrainerBoard {
  /// Milliseconds since boot (a monotonic tick, e.g. SysTick).
  mutating func milliseconds() -> UInt64
  /// Sends bytes on the UART; returns when they are queued or sent.
  mutating func uartWrite(_ bytes: UnsafeBufferPointer<UInt8>)
  /// Copies received UART bytes into `buffer` without blocking; returns how many.
  mutating func uartRead(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int
  /// Takes one raw distance measurement: the echo's round trip in microseconds, or nil when no
  /// echo came back (an ultrasonic sensor: distance mm = microseconds * 343 / 2000).
  mutating func measureEchoMicroseconds() -> UInt32?
  /// The device's serial number (from one-time-programmable memory).
  var serialNumber: DeviceSerialNumber { get }
  /// A random value (for the boot id; hardware RNG or entropy gathered at boot).
  mutating func random32() -> UInt32
  /// The stored settings, or nil when none are stored or they are corrupt.
  mutating func loadSettings() -> FirmwareSettings?
  /// Stores settings so they survive a reboot.
  mutating func storeSettings(_ settings: FirmwareSettings)
  /// Whether settings are stored but fail their integrity check (`loadSettings()` then returns nil).
  mutating func storedSettingsAreCorrupt() -> Bool
  /// Whether a host holds the port open (USB-CDC's DTR): while it does not, the firmware sends
  /// nothing and keeps its readings, since bytes written to a closed port are lost.
  mutating func hostIsListening() -> Bool
  /// Called with every sample as the firmware stores it, for a board that logs or shows them.
  mutating func didTakeSample(_ reading: Reading)
}

extension StepTrainerBoard {
  /// A board that cannot tell corrupt settings from absent ones says absent; the firmware still
  /// treats out-of-range values from `loadSettings()` as corrupt.
  public mutating func storedSettingsAreCorrupt() -> Bool { false }

  /// A UART without a DTR line (or a board that cannot read it) is always listened to.
  public mutating func hostIsListening() -> Bool { true }

  /// Most boards show nothing per sample.
  public mutating func didTakeSample(_ reading: Reading) {}
}
