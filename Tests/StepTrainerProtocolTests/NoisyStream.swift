import StepTrainerProtocol

/// A stream of valid frames with noise injected the ways a serial line corrupts data, remembering
/// which frames were left intact.
struct NoisyStream {
  var bytes: [UInt8] = []
  /// Every frame sent, with its sequence.
  var sent: [(message: Message, sequence: UInt16)] = []
  /// Sequences of frames whose bytes (and the delimiter before them) were not touched.
  var intact: Set<UInt16> = []

  enum Damage: CaseIterable {
    case none, garbageBefore, garbageWithoutDelimiterBefore, bitFlip, truncated, duplicatedByte, droppedByte,
      droppedDelimiter
  }

  static func make(messages: [Message], using random: inout some RandomNumberGenerator) -> NoisyStream {
    var stream = NoisyStream()
    var sequence: UInt16 = UInt16.random(in: 0...UInt16.max, using: &random)
    var previousDamagedTail = false
    for _ in 0..<40 {
      let message = messages.randomElement(using: &random)!
      var frame = FrameEncoder.encoded(message, sequence: sequence)
      stream.sent.append((message, sequence))
      let damage = Damage.allCases.randomElement(using: &random)!
      var clean = !previousDamagedTail
      previousDamagedTail = false
      switch damage {
      case .none:
        break
      case .garbageBefore:
        // Garbage that ends in a delimiter is its own candidate: the frame after it survives.
        stream.bytes += (0..<Int.random(in: 1...40, using: &random)).map { _ in
          UInt8.random(in: 0...255, using: &random)
        }
        stream.bytes.append(0)
      case .garbageWithoutDelimiterBefore:
        stream.bytes += (0..<Int.random(in: 1...40, using: &random)).map { _ in
          UInt8.random(in: 1...255, using: &random)
        }
        clean = false
      case .bitFlip:
        let position = Int.random(in: 0..<frame.count - 1, using: &random)
        frame[position] ^= 1 << UInt8.random(in: 0...7, using: &random)
        clean = false
        // A flip that makes a 0x00 (or breaks the delimiter) also damages the next frame.
        previousDamagedTail = frame.dropLast().contains(0)
      case .truncated:
        frame = Array(frame.prefix(Int.random(in: 1..<frame.count - 1, using: &random)))
        clean = false
        previousDamagedTail = true
      case .duplicatedByte:
        let position = Int.random(in: 0..<frame.count - 1, using: &random)
        frame.insert(frame[position], at: position)
        clean = false
      case .droppedByte:
        frame.remove(at: Int.random(in: 0..<frame.count - 1, using: &random))
        clean = false
      case .droppedDelimiter:
        frame.removeLast()
        clean = false
        previousDamagedTail = true
      }
      if clean { stream.intact.insert(sequence) }
      stream.bytes += frame
      sequence &+= 1
    }
    return stream
  }
}
