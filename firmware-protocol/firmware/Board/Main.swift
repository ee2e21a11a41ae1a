import StepTrainerFirmware
import StepTrainerProtocol

#if STEDI_STAND_IN
  typealias Firmware = StandInFirmware<MPS2AN386Board>
#else
  typealias Firmware = StepTrainerFirmware<MPS2AN386Board>
#endif

// Static storage for the firmware's whole state (Runtime/startup.c, in .bss): counted by the
// size check, and zeroed by the reset handler instead of copied from flash (a Swift global of
// type `Firmware?` would be .data, its 2.8 KB initial image costing flash too).
@_extern(c, "stedi_firmware_state_address") func stediFirmwareStateAddress() -> UnsafeMutableRawPointer
@_extern(c, "stedi_firmware_state_size") func stediFirmwareStateSize() -> Int
@_extern(c, "stedi_halt") func stediHalt(_ message: UnsafePointer<UInt8>)
@_extern(c, "stedi_sleep_until") func stediSleepUntil(_ dueMs: UInt64)

/// The firmware's entry, called by Reset_Handler (Runtime/startup.c) once .data and .bss are set.
@_cdecl("stedi_firmware_main")
public func stediFirmwareMain() {
  if MemoryLayout<Firmware>.size > stediFirmwareStateSize()
    || MemoryLayout<Firmware>.alignment > 8
  {
    stediHalt("firmware state does not fit stedi_firmware_state: raise FIRMWARE_STATE_BYTES")  // never returns
  }
  let firmware = unsafe stediFirmwareStateAddress().bindMemory(to: Firmware.self, capacity: 1)
  unsafe boot(into: firmware)
  // Between polls the core sleeps until the firmware's next timed work or a byte on UART0: an
  // idle device costs the emulator, and a real part's battery, almost nothing.
  while true {
    unsafe firmware.pointee.poll()
    stediSleepUntil(unsafe firmware.pointee.nextDueMs)
  }
}

/// Builds the firmware into its storage. Not inlined: the temporary the initialiser builds
/// (as large as the firmware) lives in this frame, which is gone before the main loop starts.
@inline(never)
func boot(into firmware: UnsafeMutablePointer<Firmware>) {
  unsafe firmware.initialize(to: Firmware(board: MPS2AN386Board()))
}
