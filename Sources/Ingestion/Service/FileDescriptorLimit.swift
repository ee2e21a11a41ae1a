import Foundation

/// The process's open-file limit.
public enum FileDescriptorLimit {
  /// Raises the soft limit to the hard limit where allowed; returns the soft limit in force.
  public static func raiseToHardLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 1024 }
    // An unlimited hard limit cannot be the soft one on Linux (nr_open caps it): a million will do.
    let target = limit.rlim_max == rlim_t.max ? 1 << 20 : limit.rlim_max
    if limit.rlim_cur < target {
      var raised = limit
      raised.rlim_cur = target
      if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { limit = raised }
    }
    return Int(clamping: limit.rlim_cur)
  }
}

#if os(Linux)
  private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
  private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
#endif
