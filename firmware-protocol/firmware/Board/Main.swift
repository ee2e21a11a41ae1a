import StepTrainerFirmware
import StepTrainerProtocol

typealias Firmware = StepTrainerFirmware<MPS2AN386Board>

@_extern(c, "stedi_sleep_until") func stediSleepUntil(_ dueMs: UInt64)

/// The firmware's entry, called by Reset_Handler (Runtime/startup.c) once .data and .bss are set.
///
/// The firmware's whole state is a local of this function, which never returns: the initialiser
/// builds it in place in this frame. Static storage plus a copy would count it twice against the
/// RAM budget (the initialiser's result is a temporary on the stack either way, the size of the
/// whole firmware); `make check` measures static RAM plus the stack's high-water mark, so the
/// state is counted all the same.
@_cdecl("stedi_firmware_main")
public func stediFirmwareMain() {
  var firmware = Firmware(board: MPS2AN386Board())
  // Between polls the core sleeps until the firmware's next timed work or a byte on UART0: an
  // idle device costs the emulator, and a real part's battery, almost nothing.
  while true {
    firmware.poll()
    stediSleepUntil(firmware.nextDueMs)
  }
}
