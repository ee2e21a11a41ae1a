import Foundation
import LakeStorage
import SeededRandom

/// Writes a small, deterministic landing zone that carries every flaw the pipeline must handle.
///
/// Same seed, same bytes. The flaws: customers who never consented (key absent) or consented
/// with `null`, a newer record that withdraws consent, a newer record that grants it, serial
/// numbers shared by several customers (the fulfillment defect), readings from before consent,
/// several phone readings at one instant, a re-delivered landing file, blank lines, and
/// malformed lines of every kind the quarantine knows.
public struct SampleLakeGenerator: Sendable {
  public var customers: Int
  public var seed: UInt64
  public var readingsPerCustomer: Int

  public init(customers: Int = 50, seed: UInt64 = 1, readingsPerCustomer: Int = 40) {
    self.customers = customers
    self.seed = seed
    self.readingsPerCustomer = readingsPerCustomer
  }

  /// The landing lines per source, file by file (relative path and bytes).
  public func files() -> [(path: String, bytes: [UInt8])] {
    var random = SplitMix64(seed: seed)
    let base: Int64 = 1_655_000_000_000 + Int64(random.next() % 1_000_000)
    var customerLines = NDJSONBuffer()
    var laterCustomerLines = NDJSONBuffer()
    var accelerometerLines = NDJSONBuffer()
    var stepLines = NDJSONBuffer()
    var serials: [String] = []
    for index in 0..<customers {
      let email = "Customer.\(index)@sample.test"
      // Every seventh customer receives a serial number already given to someone else.
      let serial: String
      if index % 7 == 6, !serials.isEmpty {
        serial = serials[Int(random.next() % UInt64(serials.count))]
      } else {
        serial = Self.uuid(&random)
        serials.append(serial)
      }
      let registered = base + Int64(index) * 3_600_000
      let consentKind = random.next() % 10
      // Consent falls somewhere in the first part of the customer's session (about 600 ms per
      // reading), so most consenting customers have readings on both sides of it.
      let session = UInt64(max(1, readingsPerCustomer) * 600)
      let consent: Int64? = consentKind < 6 ? registered + 120_000 + Int64(random.next() % (session / 2 + 1)) : nil
      var record = CustomerRecord(
        customerName: "Customer \(index)", email: email, phone: "801555\(String(1000 + index % 9000))",
        birthDay: "1990-01-01",
        serialNumber: serial, registrationDate: registered, lastUpdateDate: registered,
        shareWithResearchAsOfDate: consent, shareWithPublicAsOfDate: consent, shareWithFriendsAsOfDate: consent)
      if consentKind == 9 {
        // Explicit null instead of an absent key: both mean no consent.
        var line = NDJSONBuffer()
        record.render(into: &line)
        var text = String(decoding: line.bytes, as: UTF8.self)
        text.insert(contentsOf: ",\"shareWithResearchAsOfDate\":null", at: text.index(text.endIndex, offsetBy: -2))
        customerLines.appendRaw(contentsOf: Array(text.utf8))
      } else {
        record.render(into: &customerLines)
      }
      // Every eleventh customer changes their mind later: consent withdrawn, or granted.
      if index % 11 == 10 {
        var update = record
        update.lastUpdateDate = registered + 86_400_000
        update.shareWithResearchAsOfDate = consent == nil ? update.lastUpdateDate : nil
        update.render(into: &laterCustomerLines)
      }
      // Sessions straddle the consent date, so some readings come from before it.
      var time = registered + 120_000
      for _ in 0..<readingsPerCustomer {
        time += 200 + Int64(random.next() % 800)
        let distance = Double(100 + random.next() % 200)
        StepTrainerReading(sensorReadingTime: time, serialNumber: serial, distanceFromObject: distance)
          .render(into: &stepLines)
        for _ in 0..<(1 + Int(random.next() % 2)) {
          let axis = { (value: UInt64) in Double(Int(value % 3) - 1) }
          AccelerometerReading(
            user: email, timestamp: time, x: axis(random.next()), y: axis(random.next()), z: axis(random.next())
          ).render(into: &accelerometerLines)
        }
      }
    }
    let malformedCustomers = [
      "{\"email\": \"broken@sample.test\", \"serialNumber\": ",
      "{\"customerName\": \"No Email\", \"serialNumber\": \"x\", \"registrationDate\": 1, \"lastUpdateDate\": 1}",
      "{\"email\": \"typed@sample.test\", \"serialNumber\": \"x\", \"registrationDate\": \"yesterday\", \"lastUpdateDate\": 1}",
      "[\"not\", \"an\", \"object\"]",
    ]
    var malformedAccelerometer = Array(
      "{\"user\": \"Customer.0@sample.test\", \"timestamp\": 1655000000000, \"x\": 1.0, \"y\": \u{FF}, \"z\": 0.0}".utf8
    )
    malformedAccelerometer[malformedAccelerometer.firstIndex(of: 0xC3)!] = 0xFF  // a lone 0xFF byte: invalid UTF-8
    for line in malformedCustomers {
      customerLines.appendRaw(contentsOf: Array(line.utf8) + [UInt8(ascii: "\n")])
    }
    customerLines.appendRaw(contentsOf: [UInt8(ascii: "\n")])  // a blank line
    var accelerometerFile = accelerometerLines.bytes
    accelerometerFile += malformedAccelerometer + [UInt8(ascii: "\n")]
    accelerometerFile += Array(
      "{\"user\": \"Customer.1@sample.test\", \"timestamp\": 1655000000000.5, \"x\": 0, \"y\": 0, \"z\": 0}\n".utf8)
    var stepFile = stepLines.bytes
    // The file was cut while being written: its last line is truncated.
    stepFile += Array("{\"sensorReadingTime\": 1655000000000, \"serialNumber\": \"trunc".utf8)
    let customerFile = "customer/landing/customer-\(base).json"
    return [
      (customerFile, customerLines.bytes),
      ("customer/landing/customer-\(base + 86_400_000).json", laterCustomerLines.bytes),
      ("accelerometer/landing/accelerometer-\(base).json", accelerometerFile),
      // The same batch delivered twice must not duplicate any trusted row.
      ("accelerometer/landing/redelivered/accelerometer-\(base).json", accelerometerLines.bytes),
      ("step_trainer/landing/step_trainer-\(base).json", stepFile),
    ]
  }

  /// Writes the landing files under `root`, creating folders as needed.
  public func write(to root: String) throws(StorageError) {
    for (path, bytes) in files() {
      try TablePublisher.replaceFile(at: "\(root)/\(path)", with: bytes)
    }
  }

  private static func uuid(_ random: inout SplitMix64) -> String {
    let high = random.next()
    let low = random.next()
    let digits = String(high, radix: 16).leftPadded(to: 16) + String(low, radix: 16).leftPadded(to: 16)
    let characters = Array(digits)
    let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }
    return groups.joined(separator: "-")
  }
}
