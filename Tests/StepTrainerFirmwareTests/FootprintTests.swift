import StepTrainerFirmware
import Testing

/// The firmware's whole state (ring, decoder, encoder, schedule) stays within a small RAM budget.
@Suite struct FootprintTests {
  @Test func firmwareStateFitsInThreeKibibytes() {
    let size = MemoryLayout<StepTrainerFirmware<FakeBoard>>.size - MemoryLayout<FakeBoard>.size
    #expect(size <= 3 * 1024, "\(size) bytes")
  }
}
