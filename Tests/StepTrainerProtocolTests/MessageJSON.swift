import StepTrainerProtocol

/// A decoded message in the JSON form of PROTOCOL.md section 6, for comparison with the vectors.
enum MessageJSON {
  static func object(_ message: Message, sequence: UInt16) -> [String: Any] {
    var object: [String: Any] = ["sequence": Int(sequence)]
    switch message {
    case .connect(let m):
      object["type"] = "connect"
      object["protocolVersion"] = Int(m.protocolVersion)
      object["sessionId"] = Int(m.sessionId)
    case .hello(let m):
      object["type"] = "hello"
      object["protocolVersion"] = Int(m.protocolVersion)
      object["serialNumber"] = m.serialNumber.description
      object["firmwareMajor"] = Int(m.firmwareMajor)
      object["firmwareMinor"] = Int(m.firmwareMinor)
      object["firmwarePatch"] = Int(m.firmwarePatch)
      object["sensorKind"] = Int(m.sensorKind.rawValue)
      object["sampleRateCentihertz"] = Int(m.sampleRateCentihertz)
      object["minDistanceMm"] = Int(m.minDistanceMm)
      object["maxDistanceMm"] = Int(m.maxDistanceMm)
      object["deviceTimeMs"] = Int(m.deviceTimeMs)
      object["sessionId"] = Int(m.sessionId)
      object["bootId"] = Int(m.bootId)
      object["bufferCapacity"] = Int(m.bufferCapacity)
    case .heartbeat(let m):
      object["type"] = "heartbeat"
      object["timeMs"] = Int(m.timeMs)
      object["state"] = "\(m.state)"
      object["buffered"] = Int(m.buffered)
      object["dropped"] = Int(m.dropped)
    case .reading(let m):
      object["type"] = "reading"
      object["index"] = Int(m.index)
      object["deviceTimeMs"] = Int(m.deviceTimeMs)
      object["distanceMm"] = Int(m.distanceMm)
      object["status"] = "\(m.status)"
    case .readingBatch(let m):
      object["type"] = "readingBatch"
      object["firstIndex"] = Int(m.firstIndex)
      object["firstTimeMs"] = Int(m.firstTimeMs)
      object["readings"] = (0..<m.count).map { i -> [String: Any] in
        let entry = m.entry(i)
        return ["offsetMs": Int(entry.offsetMs), "distanceMm": Int(entry.distanceMm), "status": "\(entry.status)"]
      }
    case .timeSyncRequest(let m):
      object["type"] = "timeSyncRequest"
      object["t1"] = Int(m.t1)
    case .timeSyncResponse(let m):
      object["type"] = "timeSyncResponse"
      object["t1"] = Int(m.t1)
      object["t2"] = Int(m.t2)
      object["t3"] = Int(m.t3)
    case .configure(let m):
      object["type"] = "configure"
      object["sampleRateCentihertz"] = Int(m.sampleRateCentihertz)
      object["batchSize"] = Int(m.batchSize)
    case .ack(let m):
      object["type"] = "ack"
      object["answeredType"] = Int(m.answeredType)
      object["answeredSequence"] = Int(m.answeredSequence)
    case .nack(let m):
      object["type"] = "nack"
      object["answeredType"] = Int(m.answeredType)
      object["answeredSequence"] = Int(m.answeredSequence)
      object["reason"] = "\(m.reason)"
    case .fault(let m):
      object["type"] = "fault"
      object["code"] = Int(m.code.rawValue)
      object["severity"] = "\(m.severity)"
      object["detail"] = Int(m.detail)
      object["deviceTimeMs"] = Int(m.deviceTimeMs)
    }
    return object
  }
}
