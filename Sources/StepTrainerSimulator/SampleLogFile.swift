import Foundation
import Synchronization

/// Why a sample log file could not be created.
public struct SampleLogError: Error, Sendable {
  /// The system's reason.
  public let reason: String
}

/// A file of every sample a simulated device generated, as NDJSON (the truth a capture is
/// compared with): samples arrive on the device's thread and are written out by whoever runs it.
public final class SampleLogFile: Sendable {
  private let handle: FileHandle
  private let pending = Mutex<[UInt8]>([])

  /// Creates (or truncates) the file at `path`; throws the system's reason when it cannot.
  public init(path: String) throws(SampleLogError) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw SampleLogError(reason: String(cString: strerror(errno))) }
    handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
  }

  /// Queues `samples` for the next `flush()`.
  public func append(_ samples: [GeneratedSample]) {
    var lines: [UInt8] = []
    for sample in samples {
      lines += sample.jsonLine.utf8
      lines.append(UInt8(ascii: "\n"))
    }
    pending.withLock { $0 += lines }
  }

  /// Writes what is queued; returns why it failed, or nil.
  public func flush() -> String? {
    let bytes = pending.withLock { pending in
      defer { pending.removeAll(keepingCapacity: true) }
      return pending
    }
    guard !bytes.isEmpty else { return nil }
    do {
      try handle.write(contentsOf: bytes)
      return nil
    } catch {
      return error.localizedDescription
    }
  }

  /// Closes the file.
  public func close() { try? handle.close() }
}
