import StediTestSupport
import StepTrainerFirmware
import StepTrainerProtocol

/// The firmware on a scripted board, as the shared device test bench drives it: a main loop that
/// polls every millisecond, or one that sleeps until `nextDueMs` as the mps2 board does.
struct FirmwareOnFakeBoard: BenchDevice {
  var firmware: StepTrainerFirmware<FakeBoard>
  /// Sleep between polls until the firmware's next due time instead of polling each millisecond.
  var sleeping = false
  /// How often the polling main loop comes round, in ms (a loop slowed by other work polls less).
  var loopPeriodMs: UInt64 = 1
  init(board: FakeBoard) { firmware = StepTrainerFirmware(board: board) }

  mutating func advance(toMs: UInt64) -> [UInt8] {
    let target = toMs
    var pollsWithoutTimePassing = 0
    while true {
      firmware.poll()
      let now = firmware.board.nowMs
      guard now < target else { break }
      if sleeping {
        // Work due now is fine (a backlog drains a frame per poll), but never for ever.
        let wake = firmware.nextDueMs
        pollsWithoutTimePassing = wake <= now ? pollsWithoutTimePassing + 1 : 0
        precondition(pollsWithoutTimePassing < 1000, "nextDueMs stays in the past at \(now) ms")
        firmware.board.nowMs = min(target, max(now, wake))
      } else {
        firmware.board.nowMs = min(target, now + loopPeriodMs)
      }
    }
    return takeOutbound()
  }

  mutating func receive(_ bytes: [UInt8], atMs: UInt64) -> [UInt8] {
    // The loop already ran up to now: the bytes are read at the next poll's first clock read.
    var sent = firmware.board.nowMs < atMs ? advance(toMs: atMs) : []
    firmware.board.inbound += bytes
    firmware.poll()
    sent += takeOutbound()
    return sent
  }

  /// A new firmware instance on the same board: the settings storage survives, the clock restarts
  /// at 0 (the bench's with it), the UART loses what it held.
  mutating func reboot() {
    var board = firmware.board
    board.nowMs = 0
    board.inbound.removeAll()
    board.outbound.removeAll()
    firmware = StepTrainerFirmware(board: board)
  }

  private mutating func takeOutbound() -> [UInt8] {
    defer { firmware.board.outbound.removeAll() }
    return firmware.board.outbound
  }
}

/// The firmware tests' host: the shared bench around the firmware on a fake board.
typealias TestHost = DeviceTestBench<FirmwareOnFakeBoard>

extension DeviceTestBench where Device == FirmwareOnFakeBoard {
  init(board: FakeBoard = FakeBoard()) { self.init(FirmwareOnFakeBoard(board: board)) }

  /// The firmware under test.
  var firmware: StepTrainerFirmware<FakeBoard> {
    get { device.firmware }
    set { device.firmware = newValue }
  }

  /// Runs until `toMs` with the main loop polling each millisecond or, `sleeping`, waking only
  /// when the firmware has work (the host then acts once a second, on its heartbeats).
  mutating func run(until toMs: UInt64, sleeping: Bool) {
    device.sleeping = sleeping
    run(until: toMs, stepMs: sleeping ? 1000 : 1)
    device.sleeping = false
  }

  /// Lets `ms` pass, polling or sleeping.
  mutating func run(forMs ms: UInt64, sleeping: Bool) { run(until: now + ms, sleeping: sleeping) }

  /// Reboots the device now: a new firmware on the same board; the host starts afresh too.
  mutating func reboot() {
    device.reboot()
    restartClock()
    resetDecoder()
    take()
  }
}
