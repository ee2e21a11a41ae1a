import Foundation

/// A thread of its own that runs segment deletions one after another, in the order queued.
///
/// Unlinking a 64 MiB segment takes tens of milliseconds; done on the writer thread it held up
/// every acknowledgement queued behind it (the ingest benchmark's p99 showed it). Deletions stay
/// in order, oldest segment first, so a crash between two of them never leaves an older segment
/// whose seal or commit entries lived in a newer, already deleted one.
final class WALReleaser: @unchecked Sendable {  // `work` and `finishing` are guarded by `condition`
  private let condition = NSCondition()
  private var work: [() -> Void] = []
  private var finishing = false

  init() {
    let thread = Thread { [self] in run() }
    thread.name = "wal-releaser"
    thread.start()
  }

  /// Runs `job` after every job queued before it.
  func enqueue(_ job: @escaping () -> Void) {
    condition.lock()
    work.append(job)
    condition.signal()
    condition.unlock()
  }

  /// Lets the thread end once the queue is empty.
  func finish() {
    condition.lock()
    finishing = true
    condition.signal()
    condition.unlock()
  }

  private func run() {
    while true {
      condition.lock()
      while work.isEmpty && !finishing { condition.wait() }
      if work.isEmpty {
        condition.unlock()
        return
      }
      let taken = work
      work = []
      condition.unlock()
      for job in taken { job() }
    }
  }
}
