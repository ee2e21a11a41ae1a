import Checksums
import Testing

@Suite struct CRC32CTests {
  @Test func checkValueOfTheStandardInput() {
    let input = Array("123456789".utf8)
    #expect(input.withUnsafeBufferPointer { CRC32C.checksum($0) } == 0xE306_9283)
  }

  @Test func slicedAndCompactVariantsAgreeOnEveryLengthAndAlignment() {
    var random = SystemRandomNumberGenerator()
    let data = (0..<600).map { _ in UInt8.random(in: 0...255, using: &random) }
    data.withUnsafeBufferPointer { all in
      for start in 0..<9 {
        for length in 0..<(all.count - start) {
          let slice = UnsafeBufferPointer(rebasing: all[start..<start + length])
          #expect(CRC32C.updateSliced(CRC32C.initial, slice) == CRC32C.updateCompact(CRC32C.initial, slice))
        }
      }
    }
  }
}
