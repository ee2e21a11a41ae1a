// Scenario files give only what differs from the defaults: every field but `name` and
// `customers` may be left out, which the synthesized decoder would not allow. Unknown fields
// are refused, so a misspelt fault does not silently do nothing.

extension Scenario {
  enum CodingKeys: String, CodingKey, CaseIterable {
    case name, seed, customers, consentShare, phones, serialDevices, stepTrainerHz, phoneHz, sessionSeconds
    case durationSeconds, rampUpSeconds, pacing, batchReadings, requestTimeoutSeconds, faults
  }

  public init(from decoder: any Decoder) throws {
    try refuseUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
    let values = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      name: try values.decode(String.self, forKey: .name), customers: try values.decode(Int.self, forKey: .customers))
    func take<Value: Decodable>(_ key: CodingKeys, _ target: inout Value) throws {
      if let value = try values.decodeIfPresent(Value.self, forKey: key) { target = value }
    }
    try take(.seed, &seed)
    try take(.consentShare, &consentShare)
    try take(.phones, &phones)
    try take(.serialDevices, &serialDevices)
    try take(.stepTrainerHz, &stepTrainerHz)
    try take(.phoneHz, &phoneHz)
    try take(.sessionSeconds, &sessionSeconds)
    try take(.durationSeconds, &durationSeconds)
    try take(.rampUpSeconds, &rampUpSeconds)
    try take(.pacing, &pacing)
    try take(.batchReadings, &batchReadings)
    try take(.requestTimeoutSeconds, &requestTimeoutSeconds)
    try take(.faults, &faults)
  }
}

extension Scenario.Faults {
  enum CodingKeys: String, CodingKey, CaseIterable {
    case networkErrors, timeouts, reboots, clockDriftPpm, clockJumps, clockJumpSeconds, duplicateDeliveries
    case burstsAfterReconnect, offlineSeconds, wrongSerial
  }

  public init(from decoder: any Decoder) throws {
    try refuseUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
    let values = try decoder.container(keyedBy: CodingKeys.self)
    self.init()
    func take(_ key: CodingKeys, _ target: inout Double) throws {
      if let value = try values.decodeIfPresent(Double.self, forKey: key) { target = value }
    }
    try take(.networkErrors, &networkErrors)
    try take(.timeouts, &timeouts)
    try take(.reboots, &reboots)
    try take(.clockDriftPpm, &clockDriftPpm)
    try take(.clockJumps, &clockJumps)
    try take(.clockJumpSeconds, &clockJumpSeconds)
    try take(.duplicateDeliveries, &duplicateDeliveries)
    try take(.burstsAfterReconnect, &burstsAfterReconnect)
    try take(.offlineSeconds, &offlineSeconds)
    try take(.wrongSerial, &wrongSerial)
  }
}

private struct AnyKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}

private func refuseUnknownKeys(_ decoder: any Decoder, known: [String]) throws {
  let all = try decoder.container(keyedBy: AnyKey.self)
  if let unknown = all.allKeys.first(where: { !known.contains($0.stringValue) }) {
    throw ScenarioError(
      "unknown field '\((decoder.codingPath.map(\.stringValue) + [unknown.stringValue]).joined(separator: "."))'"
        + " (known: \(known.joined(separator: ", ")))")
  }
}
