import StepTrainerFirmware
import StepTrainerProtocol
import _Volatile

// C side (Runtime/startup.c): the millisecond clock (CMSDK timer 0, free-running) and SysTick.
@_extern(c, "stedi_milliseconds") func stediMilliseconds() -> UInt64
@_extern(c, "stedi_systick_value") func stediSysTickValue() -> UInt32
@_extern(c, "stedi_clock_start") func stediClockStart()

/// The CMSDK APB UART0 of QEMU's mps2-an386 (hw/char/cmsdk-apb-uart.c), polled (its RX
/// interrupt only wakes the core).
struct CMSDKUART {
  // Register offsets from the UART's base.
  let data: VolatileMappedRegister<UInt32>  // +0x00 read: received byte, write: byte to send
  let state: VolatileMappedRegister<UInt32>  // +0x04 bit 0 TX full, bit 1 RX full, bits 2-3 overruns (write 1 to clear)
  let ctrl: VolatileMappedRegister<UInt32>  // +0x08 bit 0 TX enable, bit 1 RX enable, bit 3 RX interrupt enable
  let bauddiv: VolatileMappedRegister<UInt32>  // +0x10 baud divider (>= 16)

  init(base: UInt) {
    data = unsafe VolatileMappedRegister(unsafeBitPattern: base)
    state = unsafe VolatileMappedRegister(unsafeBitPattern: base + 0x04)
    ctrl = unsafe VolatileMappedRegister(unsafeBitPattern: base + 0x08)
    bauddiv = unsafe VolatileMappedRegister(unsafeBitPattern: base + 0x10)
  }

  /// 115,200 baud from the 25 MHz peripheral clock (QEMU ignores the rate on a pty, but it
  /// refuses a divider below 16), TX and RX on, overrun flags cleared, and the RX interrupt on:
  /// a received byte wakes the sleeping core (Runtime/startup.c, `stedi_wait_for_event`); the
  /// bytes themselves are still read here, polled.
  func start() {
    bauddiv.store(25_000_000 / 115_200)
    state.store(0xC)
    ctrl.store(0xB)
  }

  func write(_ byte: UInt8) {
    while state.load() & 0x1 != 0 {}
    data.store(UInt32(byte))
  }

  /// The next received byte, or nil when none is waiting.
  func read() -> UInt8? {
    guard state.load() & 0x2 != 0 else { return nil }
    return UInt8(truncatingIfNeeded: data.load())
  }
}

/// The synthetic distance sensor (QEMU has no ultrasonic sensor), see README "Sensor pattern".
///
/// A foot stepping toward the sensor and back: distance(t) = 900 mm - 400 mm * sin^2(pi t / 800 ms),
/// a raised-cosine dip from 900 mm to 500 mm and back every 800 ms; plus deterministic jitter of
/// -3...+3 mm from a hash of the measurement count; measurements 156 to 160 of every 160 get no
/// echo (a run of five, so the firmware's median of three reports it: about every 5.3 s at 10 Hz).
struct SyntheticDistanceSensor {
  static let periodMs: UInt64 = 800
  static let farMm: UInt32 = 900
  static let dipMm: UInt32 = 400
  static let noEchoCycle: UInt32 = 160
  static let noEchoRun: UInt32 = 5

  private(set) var measurements: UInt32 = 0

  /// The echo round trip in microseconds at time `nowMs`, or nil for a missed echo.
  mutating func measure(nowMs: UInt64) -> UInt32? {
    measurements &+= 1
    if measurements % Self.noEchoCycle >= Self.noEchoCycle - Self.noEchoRun { return nil }
    let millimetres = Self.distanceMm(atMs: nowMs, measurement: measurements)
    // Round trip at 343 m/s: mm = us * 343 / 2000, so us = mm * 2000 / 343 (rounded).
    return (millimetres * 2000 + 171) / 343
  }

  /// The pattern's distance (integer maths only: no libm on the device).
  static func distanceMm(atMs nowMs: UInt64, measurement: UInt32) -> UInt32 {
    // Phase in thousandths of a period, p in 0..<1000; sin(pi p / 1000) by Bhaskara I's
    // approximation (error < 0.2 %): sin = 16 q / (5 - 4 q) with q = p (1000 - p) / 10^6.
    let p = UInt32(truncatingIfNeeded: (nowMs % periodMs) * 1000 / periodMs)
    let q = p * (1000 - p)  // up to 250,000
    let sinPermille = 16_000 * q / (5_000_000 - 4 * q)  // 0...1000
    let dip = dipMm * sinPermille * sinPermille / 1_000_000
    var hash = measurement &* 0x9E37_79B1
    hash ^= hash >> 15
    let jitter = hash % 7  // 0...6, centred on 3
    return farMm - dip + jitter - 3
  }
}

/// StepTrainerBoard for QEMU's mps2-an386.
struct MPS2AN386Board: StepTrainerBoard {
  static let uart0Base: UInt = 0x4000_4000

  private let uart = CMSDKUART(base: MPS2AN386Board.uart0Base)
  private var sensor = SyntheticDistanceSensor()
  private var randomState: UInt64 = 0x2545_F491_4F6C_DD1D
  /// Settings "storage": a RAM variable (QEMU's mps2 has no flash controller to emulate), so
  /// settings survive neither a reset nor a restart of QEMU.
  private var storedSettings: FirmwareSettings? = nil

  /// Starts the UART, the clock and the 1 ms SysTick wake-up.
  init() {
    uart.start()
    stediClockStart()
  }

  /// A fixed UUID for the emulated device (a real device reads its OTP area).
  var serialNumber: DeviceSerialNumber {
    // 5e3d1f0a-7b42-4c9e-9a61-0e2f4b8c7d35
    DeviceSerialNumber(high: 0x5E3D_1F0A_7B42_4C9E, low: 0x9A61_0E2F_4B8C_7D35)
  }

  mutating func milliseconds() -> UInt64 { stediMilliseconds() }

  mutating func uartWrite(_ bytes: UnsafeBufferPointer<UInt8>) {
    for byte in bytes { uart.write(byte) }
  }

  mutating func uartRead(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
    var count = 0
    while count < buffer.count, let byte = uart.read() {
      buffer[count] = byte
      count += 1
    }
    return count
  }

  mutating func measureEchoMicroseconds() -> UInt32? {
    sensor.measure(nowMs: milliseconds())
  }

  /// SplitMix64 over a state stirred with the SysTick down-counter (25 MHz) and the millisecond
  /// clock at each call: the host's scheduling makes these differ from boot to boot in QEMU. Not
  /// cryptographic; enough for a boot id.
  mutating func random32() -> UInt32 {
    randomState &+= 0x9E37_79B9_7F4A_7C15 ^ UInt64(stediSysTickValue()) ^ (stediMilliseconds() << 24)
    var z = randomState
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return UInt32(truncatingIfNeeded: z >> 16)
  }

  mutating func loadSettings() -> FirmwareSettings? { storedSettings }

  mutating func storeSettings(_ settings: FirmwareSettings) { storedSettings = settings }
}
