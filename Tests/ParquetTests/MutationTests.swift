import Parquet
import SeededRandom
import Testing

/// Damaged files give a `ParquetError`, never a crash, a hang or a huge allocation.
@Suite struct ParquetMutationTests {
  /// Small files (many pages and row groups, so mutations land in headers as often as in values).
  static func baseFiles() throws -> [(String, [UInt8])] {
    let rows = sampleRows(300, seed: 42, distinctNames: 12)
    return [
      (
        "zstd",
        try write(
          rows, options: ParquetWriterOptions(rowGroupRows: 120, compression: .zstd(level: 3), pageSizeBytes: 256))
      ),
      (
        "none",
        try write(rows, options: ParquetWriterOptions(rowGroupRows: 100, compression: .none, pageSizeBytes: 200))
      ),
      (
        "plain-fallback",
        try write(
          rows,
          options: ParquetWriterOptions(
            rowGroupRows: 300, compression: .none, dictionaryPageLimitBytes: 50, pageSizeBytes: 300))
      ),
    ]
  }

  /// Decodes everything; true if the file read, false if it threw a ParquetError (anything else fails the test).
  static func decodeAll(_ bytes: [UInt8]) -> Bool {
    do {
      let file = try ParquetFile(bytes: bytes)
      var rows = 0
      for g in file.rowGroups.indices {
        let columns = try file.readRowGroup(g)
        #expect(columns.allSatisfy { $0.count == Int(file.rowGroups[g].numRows) })
        rows += Int(file.rowGroups[g].numRows)
      }
      #expect(Int64(rows) == file.numRows)
      return true
    } catch {
      #expect(!error.description.isEmpty && !error.description.contains("\n"))
      return false
    }
  }

  @Test func baseFilesDecode() throws {
    for (name, bytes) in try Self.baseFiles() { #expect(Self.decodeAll(bytes), "\(name)") }
  }

  @Test func thousandsOfMutatedFilesThrowOrDecode() throws {
    var random = SplitMix64(seed: 0x9A7_0E7)
    var outcomes = (read: 0, refused: 0)
    for (_, original) in try Self.baseFiles() {
      for _ in 0..<2_000 {
        var bytes = original
        let n = bytes.count
        switch random.next() % 7 {
        case 0:
          bytes.removeLast(Int(random.next() % UInt64(n)) + 1)
        case 1:
          for _ in 0...(random.next() % 3) {
            let bit = Int(random.next() % UInt64(n * 8))
            bytes[bit / 8] ^= 1 << UInt8(bit % 8)
          }
        case 2:
          let at = Int(random.next() % UInt64(n))
          bytes[at] = [0, 0xFF, 0x7F, 0x80, UInt8(truncatingIfNeeded: random.next())][Int(random.next() % 5)]
        case 3:
          let at = Int(random.next() % UInt64(n - 4))
          for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: random.next()) }
        case 4:
          // The footer, where one flipped bit reshapes the whole file.
          let footer = n - 8 - Int(bytes[n - 8]) - Int(bytes[n - 7]) << 8
          let at = footer + Int(random.next() % UInt64(n - footer))
          bytes[at] ^= 1 << UInt8(random.next() % 8)
        case 5:
          let at = Int(random.next() % UInt64(n))
          let length = min(Int(random.next() % 64) + 1, n - at)
          bytes.removeSubrange(at..<(at + length))
        default:
          let at = Int(random.next() % UInt64(n))
          let length = min(Int(random.next() % 64) + 1, n - at)
          bytes.insert(contentsOf: bytes[at..<(at + length)], at: at)
        }
        if Self.decodeAll(bytes) { outcomes.read += 1 } else { outcomes.refused += 1 }
      }
    }
    // Most damage is noticed; some (a flipped value bit) is not, and cannot be without checksums.
    #expect(outcomes.refused > 3_000)
    #expect(outcomes.read + outcomes.refused == 6_000)
  }

  @Test func emptyTinyAndGarbageFilesThrow() {
    var random = SplitMix64(seed: 5)
    #expect(!Self.decodeAll([]))
    #expect(!Self.decodeAll(Array("PAR1".utf8)))
    #expect(!Self.decodeAll(Array("PAR1PAR1".utf8)))
    #expect(!Self.decodeAll(Array("PAR1".utf8) + [0, 0, 0, 0] + Array("PAR1".utf8)))
    for length in 0..<2_000 {
      let body = (0..<length % 300).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      let footerLength = UInt32(min(body.count, Int(random.next() % 300)))
      let bytes =
        Array("PAR1".utf8) + body + [UInt8(footerLength & 0xFF), UInt8(footerLength >> 8), 0, 0] + Array("PAR1".utf8)
      _ = Self.decodeAll(bytes)
    }
  }
}
