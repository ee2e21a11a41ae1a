import StepTrainerHost
import StepTrainerProtocol

/// A device written out frame by frame in a test: it encodes what the test says it sends and
/// decodes what the host sent.
struct ScriptedDevice {
  static let serial = DeviceSerialNumber("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")!
  var encoder = FrameEncoder()
  var decoder = FrameDecoder()
  var bootId: UInt32 = 77

  func hello(sessionId: UInt32, deviceTimeMs: UInt64 = 1000) -> Message {
    .hello(
      Hello(
        serialNumber: Self.serial, firmwareMajor: 1, firmwareMinor: 0, firmwarePatch: 0, sensorKind: .ultrasonic,
        sampleRateCentihertz: 1000, minDistanceMm: 20, maxDistanceMm: 4000, deviceTimeMs: deviceTimeMs,
        sessionId: sessionId, bootId: bootId, bufferCapacity: 512))
  }

  mutating func send(_ messages: Message...) -> [UInt8] { messages.flatMap { encoder.encoded($0) } }

  /// The messages in bytes the host sent.
  mutating func heard(_ bytes: [UInt8]) -> [Message] {
    decoder.decode(bytes).compactMap { if case .message(let m, _) = $0 { m } else { nil } }
  }
}

extension HostSessionCore.Output {
  var readings: [CapturedReading] { events.compactMap { if case .reading(let r) = $0 { r } else { nil } } }
}
