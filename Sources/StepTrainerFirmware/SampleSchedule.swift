/// When samples are due: at `epoch + k × 100,000 / rate` ms, so integer rounding of the period
/// never accumulates (16 Hz is 62.5 ms, alternately 62 and 63).
struct SampleSchedule {
  private var epochMs: UInt64
  private var count: UInt64 = 1
  private var rateCentihertz: UInt16
  private var lastSampleMs: UInt64?

  /// A schedule whose first sample is one period after `startMs`.
  init(rateCentihertz: UInt16, startMs: UInt64) {
    self.rateCentihertz = rateCentihertz
    epochMs = startMs
  }

  /// When the next sample is due.
  var nextMs: UInt64 { epochMs + count * 100_000 / UInt64(rateCentihertz) }

  /// Notes a sample taken at `nowMs` (at or after `nextMs`). A loop that fell more than a period
  /// behind skips the missed slots instead of taking a burst of samples at one instant.
  mutating func taken(atMs nowMs: UInt64) {
    lastSampleMs = nowMs
    count += 1
    if nextMs <= nowMs {
      epochMs = nowMs
      count = 1
    }
  }

  /// Changes the rate: the next sample comes one new period after the last, or at once if that
  /// is already past.
  mutating func change(rateCentihertz rate: UInt16, nowMs: UInt64) {
    guard rate != rateCentihertz else { return }
    rateCentihertz = rate
    epochMs = lastSampleMs ?? epochMs
    count = 1
    if nextMs < nowMs {
      epochMs = nowMs
      count = 0
    }
  }
}
