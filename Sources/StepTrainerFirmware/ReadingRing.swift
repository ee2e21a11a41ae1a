import StepTrainerProtocol

/// The readings not yet sent, oldest first, in fixed storage: full, it drops the oldest
/// (PROTOCOL.md 4.5). It also numbers the samples, since what it holds is always a run of
/// consecutive indexes (only the oldest is ever dropped).
struct ReadingRing {
  /// One stored reading: 8 bytes, so 256 take 2 KiB of RAM.
  struct Entry {
    /// The low 32 bits of the device time; the rest is restored from the clock when sent,
    /// since no reading waits anywhere near 49 days.
    var timeMs: UInt32
    var distanceMm: UInt16
    var status: ReadingStatus
  }

  /// How many readings fit: 16 s at the fastest rate, over 4 min at the slowest.
  static let capacity = 256

  private var entries = InlineArray<256, Entry>(repeating: Entry(timeMs: 0, distanceMm: 0, status: .ok))
  private var head = 0
  /// Readings held.
  private(set) var count = 0
  /// The index the next sample gets (+1 per sample since boot, wrapping).
  private(set) var nextIndex: UInt32 = 0

  /// Stores a sample taken at `timeMs`; returns true when the oldest reading was dropped for it.
  mutating func append(_ sample: DistanceSample, timeMs: UInt64) -> Bool {
    let entry = Entry(
      timeMs: UInt32(truncatingIfNeeded: timeMs), distanceMm: sample.distanceMm, status: sample.status)
    nextIndex &+= 1
    if count == Self.capacity {
      entries[head] = entry
      head = (head + 1) % Self.capacity
      return true
    }
    entries[(head + count) % Self.capacity] = entry
    count += 1
    return false
  }

  /// The i-th oldest reading, its time restored to 64 bits relative to `nowMs` (not before it).
  // Always inlined: outlined, each call from a mutating method of the firmware passed it a copy of
  // the 2 KB ring on the device's stack (make check measured 2.5 KB more).
  @inline(__always) func reading(_ i: Int, nowMs: UInt64) -> Reading {
    let entry = entries[(head + i) % Self.capacity]
    let age = UInt32(truncatingIfNeeded: nowMs) &- entry.timeMs
    return Reading(
      index: nextIndex &- UInt32(truncatingIfNeeded: count - i), deviceTimeMs: nowMs &- UInt64(age),
      distanceMm: entry.distanceMm, status: entry.status)
  }

  /// Forgets the `n` oldest readings (they were sent).
  mutating func removeFirst(_ n: Int) {
    precondition(n <= count, "removing more readings than the ring holds")
    head = (head + n) % Self.capacity
    count -= n
  }
}
