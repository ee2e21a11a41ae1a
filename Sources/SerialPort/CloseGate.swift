import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Makes closing a file descriptor safe while other threads may be blocked on it.
///
/// Closing an fd that another thread is polling or reading is a race: the number can be reused by an unrelated
/// `open()` before that thread notices. So every operation runs inside `enter` (a shared lock) and polls
/// `wakeDescriptor` alongside its own fd; `close` first makes `wakeDescriptor` readable (waking every poller), then
/// takes the lock exclusively, i.e. waits until they have all left, and only then runs the teardown.
///
/// Closing has two moments: it *starts* (`isClosed`: no new operation enters, loops stop) and it *finishes*
/// (`isReleased`: the teardown ran, e.g. the fd is closed and its lock gone). Concurrent `close` calls all return only
/// after the teardown, whichever of them ran it.
final class CloseGate: @unchecked Sendable {  // @unchecked: the rwlock and pipe fds are only used as described above.
  /// Readable once `close` has started; never drained, so every later poll sees it too.
  let wakeDescriptor: Int32
  private let wakeWriteDescriptor: Int32
  private let lock: UnsafeMutablePointer<pthread_rwlock_t>
  private let closed = Mutex(false)
  /// Held for the whole of a `close`, so a second caller waits for the first one's teardown instead of returning early.
  private let closing = Mutex(())
  private let released = Atomic<Bool>(false)

  init() throws(SerialPortError) {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else {
      throw .io(path: "(wake pipe)", operation: "pipe", errno: errno)
    }
    for fd in fds {
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    wakeDescriptor = fds[0]
    wakeWriteDescriptor = fds[1]
    lock = .allocate(capacity: 1)
    lock.initialize(to: pthread_rwlock_t())
    pthread_rwlock_init(lock, nil)
  }

  deinit {
    pthread_rwlock_destroy(lock)
    lock.deallocate()
    posixClose(wakeDescriptor)
    posixClose(wakeWriteDescriptor)
  }

  /// Whether `close` has started (the teardown may still be running on another thread).
  var isClosed: Bool { closed.withLock { $0 } }

  /// Whether a `close` has finished its teardown.
  var isReleased: Bool { released.load(ordering: .acquiring) }

  /// Runs `body` unless the gate is closed (then returns nil); `close` waits for `body` to return.
  func enter<T>(_ body: () throws(SerialPortError) -> T) throws(SerialPortError) -> T? {
    pthread_rwlock_rdlock(lock)
    defer { pthread_rwlock_unlock(lock) }
    if isClosed { return nil }
    return try body()
  }

  /// Wakes everyone inside `enter`, waits for them to leave, then runs `teardown` once. Returns false if another call
  /// ran it, but only once that teardown has finished. Must not be called from inside `enter` (it would wait for
  /// itself).
  @discardableResult
  func close(_ teardown: () -> Void) -> Bool {
    closing.withLock { _ in
      let first = closed.withLock { wasClosed in
        defer { wasClosed = true }
        return !wasClosed
      }
      guard first else { return false }
      var byte: UInt8 = 1
      _ = posixWrite(wakeWriteDescriptor, &byte, 1)
      pthread_rwlock_wrlock(lock)
      defer { pthread_rwlock_unlock(lock) }
      teardown()
      released.store(true, ordering: .releasing)
      return true
    }
  }

  /// Sleeps up to `milliseconds`, returning early (true) if the gate is being closed.
  func nap(milliseconds: Int32) -> Bool {
    var fd = pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)
    return poll(&fd, 1, milliseconds) > 0
  }
}

/// Milliseconds left until `deadline`, clamped to what `poll()` accepts (0 when past).
func pollTimeout(until deadline: ContinuousClock.Instant, cap: Duration = .seconds(1)) -> Int32 {
  let remaining = min(deadline - .now, cap)
  if remaining <= .zero { return 0 }
  let (seconds, attoseconds) = remaining.components
  // Round up so a short remainder still waits instead of spinning on zero-timeout polls.
  return Int32(seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
}
