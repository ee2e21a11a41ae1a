/// Rewrites an NDJSON file without the lines a predicate picks, for erasure.
package enum LineRewrite {
  /// What became of a file.
  package struct Outcome {
    /// The new contents.
    package var bytes: [UInt8]
    /// Lines taken out.
    package var removed: Int
    /// Non-blank lines left.
    package var remaining: Int

    package init(bytes: [UInt8], removed: Int, remaining: Int) {
      self.bytes = bytes
      self.removed = removed
      self.remaining = remaining
    }
  }

  /// The file without the lines for which `remove` is true; nil when no line is removed.
  ///
  /// With `keepLineNumbers` a removed line leaves an empty line behind (landing files: quarantine
  /// entries and logs name lines by number, and those numbers must stay true); otherwise it goes
  /// entirely (tables the pipeline writes, which nothing refers to by line). Blank lines are
  /// never offered to `remove`; a last line without its newline keeps having none.
  package static func rewrite(
    _ bytes: [UInt8], keepLineNumbers: Bool, remove: (UnsafeBufferPointer<UInt8>) -> Bool
  ) -> Outcome? {
    bytes.withUnsafeBufferPointer { rewrite($0, keepLineNumbers: keepLineNumbers, remove: remove) }
  }

  /// The same over a buffer (a slice of a larger file that starts at a line boundary).
  package static func rewrite(
    _ buffer: UnsafeBufferPointer<UInt8>, keepLineNumbers: Bool, remove: (UnsafeBufferPointer<UInt8>) -> Bool
  ) -> Outcome? {
    do {
      var output: [UInt8] = []
      var removed = 0
      var remaining = 0
      var copiedUpTo = 0
      var start = 0
      while start < buffer.count {
        var end = start
        while end < buffer.count, buffer[end] != 0x0A { end += 1 }
        let line = UnsafeBufferPointer(rebasing: buffer[start..<end])
        let blank = line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        if !blank, remove(line) {
          if removed == 0 { output.reserveCapacity(buffer.count) }
          output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[copiedUpTo..<start]))
          let lineEnd = min(end + 1, buffer.count)
          if keepLineNumbers, end < buffer.count { output.append(0x0A) }
          copiedUpTo = lineEnd
          removed += 1
        } else if !blank {
          remaining += 1
        }
        start = end + 1
      }
      guard removed > 0 else { return nil }
      output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[copiedUpTo..<buffer.count]))
      return Outcome(bytes: output, removed: removed, remaining: remaining)
    }
  }

  /// `bytes` split into about `count` ranges that each end just after a newline (the last at the end).
  package static func lineAlignedRanges(of bytes: UnsafeBufferPointer<UInt8>, count: Int) -> [Range<Int>] {
    guard count > 1, bytes.count > count else { return [0..<bytes.count] }
    var ranges: [Range<Int>] = []
    var start = 0
    for part in 1..<count {
      var end = max(start, bytes.count * part / count)
      while end < bytes.count, bytes[end] != 0x0A { end += 1 }
      end = min(end + 1, bytes.count)
      if end > start {
        ranges.append(start..<end)
        start = end
      }
    }
    if start < bytes.count { ranges.append(start..<bytes.count) }
    return ranges
  }
}
