// Reads every line of a table's NDJSON files, in parallel, into per-chunk consumers.
//
// Files are read in windows of whole lines; each window is cut at newlines into chunks that
// the cores parse at once. Chunk results are handed back in file and line order, so the
// outcome never depends on thread timing. Memory stays bounded by the window size, whatever
// the size of a file, except that one line must fit in memory (it is cut to a few kilobytes as
// soon as it is quarantined).
//
// Only regular files are opened, and without blocking: a FIFO named like a table file would
// otherwise hang the run (and its lake lock) until a writer appeared. Such an entry is one
// quarantine entry, `not_a_regular_file` at line 0, counted as one line read and quarantined so
// that read = accepted + quarantined + blank still holds.

import Dispatch
import Foundation
import LakeStorage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Turns the lines of one chunk into records; one instance per chunk, so it needs no locks.
public protocol NDJSONLineConsumer {
  /// Decodes one non-blank line, or throws why it must be quarantined.
  mutating func consume(_ line: UnsafeBufferPointer<UInt8>) throws(RecordError)
}

/// How the lines of a table were accounted for: read = accepted + quarantined + blank (a table
/// file that is not a regular file counts as one line, quarantined).
public struct LineCounts: Sendable, Equatable, Codable {
  public var read = 0
  public var accepted = 0
  public var quarantined = 0
  public var blank = 0

  public init() {}

  mutating func add(_ other: LineCounts) {
    read += other.read
    accepted += other.accepted
    quarantined += other.quarantined
    blank += other.blank
  }
}

/// Reads NDJSON tables of a lake with all cores.
public struct NDJSONTableReader: Sendable {
  /// Bytes read from a file at a time; a window holds whole lines only.
  public var windowSize: Int
  /// Smallest chunk worth handing to another core.
  public var minimumChunkSize = 256 * 1024 {
    didSet { minimumChunkSize = max(minimumChunkSize, 1) }
  }
  public var parallelism: Int

  public init(windowSize: Int = 32 * 1024 * 1024, parallelism: Int = ProcessInfo.processInfo.activeProcessorCount) {
    // A window holds at least one small line; tiny windows are for tests of line handling.
    self.windowSize = max(windowSize, 16)
    self.parallelism = max(1, parallelism)
  }

  /// Reads `files`, calling `makeConsumer` once per chunk (from any thread) and `absorb` with the
  /// consumers in file and line order (on the calling thread).
  public func read<Consumer: NDJSONLineConsumer>(
    _ files: [LakeFile],
    makeConsumer: () -> Consumer,
    absorb: (consuming Consumer) -> Void,
    quarantine: (QuarantinedLine) -> Void,
    progress: (_ bytesRead: Int) -> Void = { _ in }
  ) throws(StorageError) -> LineCounts {
    var totals = LineCounts()
    var next = 0
    while next < files.count {
      if files[next].size >= windowSize {
        totals.add(
          try readLargeFile(
            files[next], makeConsumer: makeConsumer, absorb: absorb, quarantine: quarantine, progress: progress))
        next += 1
        continue
      }
      // Small files go in batches of about one window: read on all cores, then parsed on all cores.
      var batch = [files[next]]
      var batchBytes = files[next].size
      next += 1
      while next < files.count, files[next].size < windowSize, batchBytes + files[next].size <= windowSize {
        batch.append(files[next])
        batchBytes += files[next].size
        next += 1
      }
      var contents = [Result<FileContents, StorageError>](repeating: .success(.bytes([])), count: batch.count)
      contents.withUnsafeMutableBufferPointer { slots in
        concurrentForEach(batch.count) { index in
          slots[index] = Result { () throws(StorageError) in try readWhole(batch[index]) }
        }
      }
      var buffers: [[UInt8]] = []
      buffers.reserveCapacity(batch.count)
      for (index, result) in contents.enumerated() {
        switch try result.get() {
        case .bytes(let bytes): buffers.append(bytes)
        case .notRegular(let type):
          batch[index].type = type
          buffers.append([])
        }
      }
      totals.add(
        withSegments(buffers, files: batch) { segments in
          parse(segments, makeConsumer: makeConsumer, absorb: absorb, quarantine: quarantine)
        })
      progress(batchBytes)
    }
    return totals
  }

  /// What reading a table file gave.
  private enum FileContents {
    case bytes([UInt8])
    /// The entry was not a regular file (when listed, or by the time it was opened): not read.
    case notRegular(LakeFileType)
  }

  /// Opens a table file that was listed as a regular file, or tells what it has become.
  ///
  /// O_NONBLOCK, then fstat: the listing said "regular", but the entry can be replaced by a FIFO
  /// in between, and a blocking open of a FIFO waits for a writer forever.
  private func openRegular(_ file: LakeFile) throws(StorageError) -> Result<Int32, NotRegular> {
    guard file.type == .regular else { return .failure(NotRegular(type: file.type)) }
    let fd = open(file.absolutePath, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
    var status = stat()
    guard fd >= 0 else {
      let code = errno
      // A socket cannot be opened at all (ENXIO): say what it is rather than that it failed.
      if stat(file.absolutePath, &status) == 0, LakeFileType(mode: status.st_mode) != .regular {
        return .failure(NotRegular(type: LakeFileType(mode: status.st_mode)))
      }
      throw .fromErrno(code, reading: file.absolutePath)
    }
    guard fstat(fd, &status) == 0 else {
      let code = errno
      close(fd)
      throw .fromErrno(code, reading: file.absolutePath)
    }
    let type = LakeFileType(mode: status.st_mode)
    guard type == .regular else {
      close(fd)
      return .failure(NotRegular(type: type))
    }
    return .success(fd)
  }

  private struct NotRegular: Error {
    var type: LakeFileType
  }

  /// The whole file, read to its end (it may have grown since it was listed).
  private func readWhole(_ file: LakeFile) throws(StorageError) -> FileContents {
    let fd: Int32
    switch try openRegular(file) {
    case .success(let opened): fd = opened
    case .failure(let notRegular): return .notRegular(notRegular.type)
    }
    defer { close(fd) }
    var contents: [UInt8] = []
    var want = file.size + 1
    while true {
      var failure: Int32 = 0
      let piece = [UInt8](unsafeUninitializedCapacity: want) { buffer, count in
        count = 0
        while count < want {
          let got = systemRead(fd, buffer.baseAddress! + count, want - count)
          if got < 0 {
            if errno == EINTR { continue }
            failure = errno
            return
          }
          if got == 0 { return }
          count += got
        }
      }
      if failure != 0 { throw .fromErrno(failure, reading: file.absolutePath) }
      let reachedEnd = piece.count < want
      if contents.isEmpty { contents = piece } else { contents += piece }
      if reachedEnd { return .bytes(contents) }
      want = max(want, 1 << 16)
    }
  }

  /// Streams a file larger than the window in windows of whole lines.
  private func readLargeFile<Consumer: NDJSONLineConsumer>(
    _ file: LakeFile, makeConsumer: () -> Consumer, absorb: (consuming Consumer) -> Void,
    quarantine: (QuarantinedLine) -> Void, progress: (Int) -> Void
  ) throws(StorageError) -> LineCounts {
    var totals = LineCounts()
    var capacity = windowSize
    let fd: Int32
    switch try openRegular(file) {
    case .success(let opened): fd = opened
    case .failure(let notRegular):
      quarantine(Self.notRegularEntry(file, notRegular.type))
      totals.read = 1
      totals.quarantined = 1
      return totals
    }
    defer { close(fd) }
    var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    defer { buffer.deallocate() }
    var carried = 0
    var nextLine = 1
    var atEnd = false
    while !atEnd {
      if carried == capacity {
        // One line longer than the buffer: grow it before reading on.
        capacity *= 2
        let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        larger.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0..<carried]))
        buffer.deallocate()
        buffer = larger
      }
      var filled = carried
      while filled < capacity {
        let got = systemRead(fd, buffer.baseAddress! + filled, capacity - filled)
        if got < 0 {
          if errno == EINTR { continue }
          throw .fromErrno(errno, reading: file.absolutePath)
        }
        if got == 0 {
          atEnd = true
          break
        }
        filled += got
      }
      // Process whole lines only; at the end of the file the last line needs no newline.
      var usable = filled
      if !atEnd {
        guard let lastNewline = lastNewline(in: buffer.baseAddress! + carried, count: filled - carried) else {
          carried = filled
          continue
        }
        usable = carried + lastNewline + 1
      }
      let window = UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: usable)
      let counts = parse(
        [Segment(file: file, bytes: window, firstLine: nextLine)], makeConsumer: makeConsumer, absorb: absorb,
        quarantine: quarantine)
      nextLine += counts.read
      totals.add(counts)
      progress(usable)
      carried = filled - usable
      if carried > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + usable, carried) }
    }
    return totals
  }

  /// Whole lines of one file, starting at line `firstLine`.
  private struct Segment {
    var file: LakeFile
    var bytes: UnsafeBufferPointer<UInt8>
    var firstLine: Int
  }

  private func withSegments<Result>(
    _ buffers: [[UInt8]], files: [LakeFile], _ body: ([Segment]) -> Result
  ) -> Result {
    // The buffers stay alive (and unmoved) for the duration of `body`.
    var segments: [Segment] = []
    segments.reserveCapacity(buffers.count)
    return withExtendedLifetime(buffers) {
      for (index, buffer) in buffers.enumerated() {
        let pointer = buffer.withUnsafeBufferPointer { $0 }
        segments.append(Segment(file: files[index], bytes: pointer, firstLine: 1))
      }
      return body(segments)
    }
  }

  /// Parses the segments' chunks on all cores and hands results back in order.
  private func parse<Consumer: NDJSONLineConsumer>(
    _ segments: [Segment], makeConsumer: () -> Consumer, absorb: (consuming Consumer) -> Void,
    quarantine: (QuarantinedLine) -> Void
  ) -> LineCounts {
    var chunks: [(segment: Int, range: Range<Int>)] = []
    for (index, segment) in segments.enumerated() {
      for range in chunkBoundaries(segment.bytes) { chunks.append((index, range)) }
    }
    let outcomes = UnsafeMutableBufferPointer<ChunkOutcome<Consumer>>.allocate(capacity: chunks.count)
    defer { outcomes.deallocate() }
    concurrentForEach(chunks.count) { index in
      let (segment, range) = chunks[index]
      (outcomes.baseAddress! + index).initialize(
        to: parseChunk(UnsafeBufferPointer(rebasing: segments[segment].bytes[range]), consumer: makeConsumer()))
    }
    var total = LineCounts()
    var linesBefore = 0
    for index in 0..<chunks.count {
      let outcome = (outcomes.baseAddress! + index).move()
      let segment = segments[chunks[index].segment]
      if index > 0, chunks[index - 1].segment != chunks[index].segment { linesBefore = 0 }
      if segment.file.type != .regular {
        // Its one (empty) chunk: the entry is reported in its place in file order.
        quarantine(Self.notRegularEntry(segment.file, segment.file.type))
        total.read += 1
        total.quarantined += 1
      }
      for entry in outcome.rejected {
        quarantine(
          QuarantinedLine(
            sourceFile: segment.file.relativePath, line: segment.firstLine + linesBefore + entry.line,
            reason: entry.error.reason, detail: entry.error.detail, excerpt: entry.raw))
      }
      linesBefore += outcome.counts.read
      total.add(outcome.counts)
      absorb(outcome.consumer)
    }
    return total
  }

  /// The quarantine entry of a table file that is not a regular file.
  private static func notRegularEntry(_ file: LakeFile, _ type: LakeFileType) -> QuarantinedLine {
    QuarantinedLine(
      sourceFile: file.relativePath, line: 0, reason: .notARegularFile,
      detail: "the entry is \(type.description), not a regular file; it was not opened", raw: [])
  }

  /// Splits a window into about `parallelism × 4` chunks, each ending at a newline.
  private func chunkBoundaries(_ window: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
    let wanted = min(parallelism * 4, max(1, window.count / minimumChunkSize))
    var boundaries: [Range<Int>] = []
    var start = 0
    for index in 1...wanted {
      var end = index == wanted ? window.count : window.count * index / wanted
      if end < start { end = start }
      if end < window.count, end > 0, window[end - 1] != UInt8(ascii: "\n") {
        // The next newline at or after `end` (memchr: a long line is skipped at memory speed).
        let found = memchr(window.baseAddress! + end, Int32(UInt8(ascii: "\n")), window.count - end)
        end =
          found.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - window.baseAddress! + 1 } ?? window.count
      }
      if end > start { boundaries.append(start..<end) }
      start = end
    }
    if boundaries.isEmpty { boundaries.append(0..<0) }
    return boundaries
  }

  private func parseChunk<Consumer: NDJSONLineConsumer>(
    _ chunk: UnsafeBufferPointer<UInt8>, consumer: Consumer
  ) -> ChunkOutcome<Consumer> {
    var consumer = consumer
    var counts = LineCounts()
    var rejected: [(line: Int, error: RecordError, raw: QuarantinedLine.Excerpt)] = []
    guard let base = chunk.baseAddress else { return ChunkOutcome(consumer: consumer, counts: counts, rejected: []) }
    var start = 0
    while start < chunk.count {
      let remaining = chunk.count - start
      let newline = memchr(base + start, Int32(UInt8(ascii: "\n")), remaining)
      let end = newline.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base } ?? chunk.count
      let line = UnsafeBufferPointer(start: base + start, count: end - start)
      counts.read += 1
      if isBlank(line) {
        counts.blank += 1
      } else {
        do {
          try consumer.consume(line)
          counts.accepted += 1
        } catch {
          counts.quarantined += 1
          // Only the line's beginning is copied (and its digest taken here, on this chunk's core).
          rejected.append((counts.read - 1, error, QuarantinedLine.Excerpt(line)))
        }
      }
      start = end + 1
    }
    return ChunkOutcome(consumer: consumer, counts: counts, rejected: rejected)
  }

  @inline(__always) private func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
    for byte in line where byte != 0x20 && byte != 0x09 && byte != 0x0D { return false }
    return true
  }
}

/// The offset of the last newline in `count` bytes at `start`, searched from the end.
private func lastNewline(in start: UnsafeMutableRawPointer, count: Int) -> Int? {
  let bytes = start.assumingMemoryBound(to: UInt8.self)
  var index = count - 1
  while index >= 0 {
    if bytes[index] == UInt8(ascii: "\n") { return index }
    index -= 1
  }
  return nil
}

/// The system's read(2), named apart from the reader's own `read`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
  read(fd, buffer, count)
}

private struct ChunkOutcome<Consumer> {
  var consumer: Consumer
  var counts: LineCounts
  var rejected: [(line: Int, error: RecordError, raw: QuarantinedLine.Excerpt)]
}
