// One NDJSON line splitter for everything that rewrites or scans whole files (erasure, the
// audit, the ingest log's scrubbing): blank lines are skipped the way the pipeline skips them.

/// Calls `body` with every non-blank line of `bytes`.
public func forEachLine(_ bytes: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
  bytes.withUnsafeBufferPointer { forEachLine($0, body) }
}

/// Calls `body` with every non-blank line of `buffer`.
public func forEachLine(_ buffer: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
  do {
    var start = 0
    while start < buffer.count {
      var end = start
      while end < buffer.count, buffer[end] != 0x0A { end += 1 }
      let line = UnsafeBufferPointer(rebasing: buffer[start..<end])
      if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { body(line) }
      start = end + 1
    }
  }
}
