import Foundation
import StediTestSupport
import StepTrainerFirmware
import StepTrainerProtocol
import Testing

/// The device behaviour vectors of PROTOCOL.md revision 1.1 (`vectors/device.json`, written by the
/// independent Python reference from the spec), replayed against the firmware: every answer,
/// state, batch age and spacing as each case states.
@Suite struct DeviceVectorTests {
  static let path = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("firmware-protocol/vectors/device.json")

  static func cases() throws -> [[String: Any]] {
    let root = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
    #expect(root["revision"] as? String == "1.1")
    return try #require(root["cases"] as? [[String: Any]])
  }

  static func bytes(hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
      let next = hex.index(index, offsetBy: 2)
      bytes.append(UInt8(hex[index..<next], radix: 16)!)
      index = next
    }
    return bytes
  }

  /// The fields of an answer the vectors check, by their PROTOCOL.md section 6 names.
  static func fields(_ message: Message) -> [String: String] {
    switch message {
    case .hello(let m):
      ["type": "hello", "protocolVersion": "\(m.protocolVersion)", "sessionId": "\(m.sessionId)"]
    case .nack(let m):
      [
        "type": "nack", "answeredType": "\(m.answeredType)", "answeredSequence": "\(m.answeredSequence)",
        "reason": "\(m.reason)",
      ]
    case .ack(let m): ["type": "ack", "answeredType": "\(m.answeredType)", "answeredSequence": "\(m.answeredSequence)"]
    case .timeSyncResponse(let m): ["type": "timeSyncResponse", "t1": "\(m.t1)", "t2": "\(m.t2)", "t3": "\(m.t3)"]
    case .fault(let m): ["type": "fault", "code": "\(m.code)", "detail": "\(m.detail)"]
    default: ["type": "\(message.type)"]
    }
  }

  static func isReading(_ message: Message) -> Bool {
    switch message {
    case .reading, .readingBatch: true
    default: false
    }
  }

  /// Not an answer: readings, heartbeats and unsolicited HELLOs (section 6).
  static func isAnswer(_ message: Message) -> Bool {
    switch message {
    case .reading, .readingBatch, .heartbeat: false
    case .hello(let hello): hello.sessionId != 0
    default: true
    }
  }

  @Test func everyCaseBehavesAsStated() throws {
    let cases = try Self.cases()
    #expect(cases.count >= 20)
    for item in cases {
      let name = try #require(item["name"] as? String)
      let settings = try #require(item["settings"] as? [String: Int])
      var board = FakeBoard()
      board.storedSettings = FirmwareSettings(
        sampleRateCentihertz: UInt16(settings["sampleRateCentihertz"]!), batchSize: UInt8(settings["batchSize"]!))
      var host = TestHost(board: board)
      if let connectMs = item["connect"] as? Int {
        host.run(until: UInt64(connectMs))
        host.connect()
      }
      let mark = host.received.count
      for step in try #require(item["steps"] as? [[String: Any]]) {
        host.run(until: UInt64(try #require(step["atMs"] as? Int)))
        host.sendRaw(Self.bytes(hex: try #require(step["hex"] as? String)))
      }
      host.run(until: UInt64(try #require(item["untilMs"] as? Int)))
      let expect = try #require(item["expect"] as? [String: Any])
      let after = Array(host.received[mark...])

      let answers = after.map(\.message).filter(Self.isAnswer)
      let wanted = try #require(expect["answers"] as? [[String: Any]])
      #expect(answers.count == wanted.count, "\(name): \(answers.count) answers, \(wanted.count) expected: \(answers)")
      for (answer, partial) in zip(answers, wanted) {
        let got = Self.fields(answer)
        for (key, value) in partial {
          #expect(got[key] == "\(value)", "\(name): \(key) is \(got[key] ?? "absent"), not \(value)")
        }
      }
      if let state = expect["state"] as? String {
        #expect("\(host.firmware.state)" == state, "\(name)")
      }
      if let most = expect["readingFramesBeforeLastAnswer"] as? Int,
        let last = after.lastIndex(where: { Self.isAnswer($0.message) })
      {
        let frames = after[..<last].filter { Self.isReading($0.message) }.count
        #expect(frames <= most, "\(name): \(frames) reading frames before the last answer")
      }
      if let maxAge = expect["maxReadingAgeMs"] as? Int {
        for (message, _, atMs) in host.received {
          for reading in TestHost.readings(in: [message]) {
            // The bench hears what a poll wrote at the end of its 1 ms step.
            #expect(atMs - reading.deviceTimeMs <= UInt64(maxAge) + 1, "\(name): reading \(reading.index)")
          }
        }
      }
      if let spacings = expect["batchSpacingsMs"] as? [Int] {
        for case .readingBatch(let batch) in host.messages where batch.count > 1 {
          for i in 1..<batch.count {
            let spacing = Int(batch[i].deviceTimeMs - batch[i - 1].deviceTimeMs)
            #expect(spacings.contains(spacing), "\(name): spacing \(spacing) ms in a batch")
          }
        }
      }
    }
  }
}
