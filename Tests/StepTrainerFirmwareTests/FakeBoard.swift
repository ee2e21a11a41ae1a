import StepTrainerFirmware
import StepTrainerProtocol

/// A board in memory: a clock the test advances, UART byte queues both ways, a scripted echo
/// sensor and settings storage that survives a "reboot" (a new firmware on the same board).
struct FakeBoard: StepTrainerBoard {
  /// The board clock, ms since boot.
  var nowMs: UInt64 = 0
  /// Added to the clock after every read of it, so time passes inside one poll (0: frozen).
  var msPerClockRead: UInt64 = 0
  /// Bytes the host sent, not yet read by the firmware.
  var inbound: [UInt8] = []
  /// Bytes the firmware wrote, not yet taken by the host.
  var outbound: [UInt8] = []
  /// Echo round trips (µs, nil: no echo) the next measurements return, in order.
  var scriptedEchoes: [UInt32?] = []
  /// What measurements return once the script is used up: 5,831 µs is 1,000 mm.
  var steadyEcho: UInt32? = 5831
  /// Measurements taken.
  var measurements = 0
  /// The settings storage.
  var storedSettings: FirmwareSettings?
  /// Whether the storage holds settings that fail their check.
  var storageCorrupt = false
  /// Times settings were stored.
  var stores = 0
  /// Values `random32()` returns, in order, before counting up from 0x1000.
  var randomValues: [UInt32] = []
  private var nextRandom: UInt32 = 0x1000

  let serialNumber = DeviceSerialNumber(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)

  mutating func milliseconds() -> UInt64 {
    defer { nowMs += msPerClockRead }
    return nowMs
  }

  mutating func uartWrite(_ bytes: UnsafeBufferPointer<UInt8>) { outbound.append(contentsOf: bytes) }

  mutating func uartRead(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
    let count = min(buffer.count, inbound.count)
    for i in 0..<count { buffer[i] = inbound[i] }
    inbound.removeFirst(count)
    return count
  }

  mutating func measureEchoMicroseconds() -> UInt32? {
    measurements += 1
    return scriptedEchoes.isEmpty ? steadyEcho : scriptedEchoes.removeFirst()
  }

  mutating func random32() -> UInt32 {
    if !randomValues.isEmpty { return randomValues.removeFirst() }
    nextRandom += 1
    return nextRandom
  }

  mutating func loadSettings() -> FirmwareSettings? { storageCorrupt ? nil : storedSettings }

  mutating func storeSettings(_ settings: FirmwareSettings) {
    storedSettings = settings
    storageCorrupt = false
    stores += 1
  }

  mutating func storedSettingsAreCorrupt() -> Bool { storageCorrupt }
}
