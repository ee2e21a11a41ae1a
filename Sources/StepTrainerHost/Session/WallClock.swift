#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The host's wall clock, epoch milliseconds (what time sync maps device time onto).
public enum WallClock {
  /// Now, in Unix epoch milliseconds.
  @Sendable
  public static func nowMs() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
  }
}
