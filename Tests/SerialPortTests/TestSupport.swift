import Foundation
import SerialPort
import Synchronization

/// Collects everything a port's `received` stream yields, and how it ended, so tests can wait with a deadline
/// instead of awaiting the stream directly (which would hang the test if the stream never ended).
final class StreamCollector: Sendable {
  enum Ending: Sendable {
    case finished
    case failed(any Error)
    case timedOut
  }

  private struct State {
    var bytes: [UInt8] = []
    var ending: Ending?
    var endedAt: ContinuousClock.Instant?
  }

  private final class Storage: Sendable {
    let state = Mutex(State())
  }

  private let storage = Storage()

  init(_ stream: AsyncThrowingStream<[UInt8], any Error>) {
    Task { [storage] in
      do {
        for try await chunk in stream {
          storage.state.withLock { $0.bytes += chunk }
        }
        storage.state.withLock {
          $0.ending = .finished
          $0.endedAt = .now
        }
      } catch {
        storage.state.withLock {
          $0.ending = .failed(error)
          $0.endedAt = .now
        }
      }
    }
  }

  var bytes: [UInt8] { storage.state.withLock { $0.bytes } }
  var endedAt: ContinuousClock.Instant? { storage.state.withLock { $0.endedAt } }

  /// Waits until at least `count` bytes arrived (or the stream ended, or the timeout passed); returns all bytes so far.
  func waitForBytes(_ count: Int, timeout: Duration = .seconds(10)) async -> [UInt8] {
    let deadline = ContinuousClock.now + timeout
    while true {
      let (bytes, ended) = storage.state.withLock { ($0.bytes, $0.ending != nil) }
      // Checked once more after the deadline: under load a 2 ms sleep can overshoot by seconds (the cooperative pool
      // is as wide as the CPU count and other tests block it), and what arrived meanwhile still counts.
      if bytes.count >= count || ended || ContinuousClock.now >= deadline { return bytes }
      try? await Task.sleep(for: .milliseconds(2))
    }
  }

  /// Waits for the stream to end; `.timedOut` if it did not within `timeout`.
  ///
  /// This measures when the collecting task *saw* the end, which includes any time the cooperative thread pool was
  /// too busy to run it; a timeout here guards against a stream that never ends, it is not a latency check.
  func waitForEnding(timeout: Duration = .seconds(10)) async -> Ending {
    let deadline = ContinuousClock.now + timeout
    while true {
      // Checked once more after the deadline, for the same reason as in `waitForBytes`.
      if let ending = storage.state.withLock({ $0.ending }) { return ending }
      if ContinuousClock.now >= deadline { return .timedOut }
      try? await Task.sleep(for: .milliseconds(2))
    }
  }
}

/// Runs blocking work (pseudo-terminal reads, big writes) on its own thread, off the cooperative pool, so a test
/// blocked in poll() cannot starve the tasks that would unblock it.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    Thread.detachNewThread {
      continuation.resume(with: Result { try body() })
    }
  }
}

/// Waits on a thread of its own until the device side no longer sees a host (true), or `timeout` passes (false).
///
/// Not checked once, right after `close()`: the pty only reports the host gone when the last copy of its fd closes,
/// and a process spawned by another thread at that moment (this test process runs cc, swiftc and itself in parallel
/// tests) holds a copy of every fd, O_CLOEXEC ones too, until its exec. Measured with posix_spawn in a loop on another
/// thread: 8,670 of 20,000 open/close cycles were not yet seen as a hang-up right after close().
func waitUntilHostLeaves(_ pty: PseudoTerminal, timeout: Duration = .seconds(2)) async throws -> Bool {
  try await onThread {
    let deadline = ContinuousClock.now + timeout
    while pty.isHostConnected {
      if ContinuousClock.now >= deadline { return false }
      usleep(1000)
    }
    return true
  }
}

/// Reads from the device side until `count` bytes arrived or `timeout` passed.
func readDevice(_ pty: PseudoTerminal, count: Int, timeout: Duration = .seconds(20)) throws -> [UInt8] {
  let deadline = ContinuousClock.now + timeout
  var received: [UInt8] = []
  received.reserveCapacity(count)
  while received.count < count {
    let left = deadline - .now
    if left <= .zero { break }
    received += try pty.read(maxCount: count - received.count, timeout: min(left, .milliseconds(500)))
  }
  return received
}

/// Deterministic pseudo-random bytes (xorshift), so a failure is reproducible.
func patternBytes(_ count: Int, seed: UInt64 = 0x5EED_57ED_1) -> [UInt8] {
  var state = seed
  return (0..<count).map { _ in
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    return UInt8(truncatingIfNeeded: state)
  }
}

/// Every byte value 0x00...0xFF, twice, with the bytes a line discipline would touch (NUL, XON/XOFF, CR/LF, ^C, ^D,
/// DEL, ESC) also in runs.
let allByteValues: [UInt8] =
  Array(0...255) + Array((0...255).reversed()) + [
    0x00, 0x00, 0x11, 0x13, 0x11, 0x0D, 0x0A, 0x0D, 0x03, 0x04, 0x7F, 0x1B,
  ]

/// Whether `error` is `SerialPortError.disconnected` for `path`.
func isDisconnected(_ ending: StreamCollector.Ending, path: String) -> Bool {
  if case .failed(let error) = ending, let error = error as? SerialPortError, error == .disconnected(path: path) {
    return true
  }
  return false
}

/// Set in the subprocess that LibSerialPortShimTests starts with the LD_PRELOAD shim.
let shimChildVariable = "STEDI_SERIAL_SHIM_CHILD"

/// Whether this test process is that subprocess.
let isShimChildProcess = ProcessInfo.processInfo.environment[shimChildVariable] == "1"
