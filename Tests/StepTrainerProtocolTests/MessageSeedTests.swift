import Checksums
import Testing

@testable import StepTrainerProtocol

/// Each message type's CRC seed is derived from its signature (PROTOCOL.md 3.2).
@Suite struct MessageSeedTests {
  @Test(arguments: MessageType.allCases)
  func seedIsTheLowByteOfTheSignaturesCRC(_ type: MessageType) {
    let signature = type.signature
    let crc = CRC32C.checksum(UnsafeBufferPointer(start: signature.utf8Start, count: signature.utf8CodeUnitCount))
    #expect(type.seed == UInt8(truncatingIfNeeded: crc))
  }
}
