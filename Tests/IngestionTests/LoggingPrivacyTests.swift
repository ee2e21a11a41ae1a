import Foundation
import Hummingbird
import HummingbirdTesting
import IngestAPI
import LakeStorage
import Lakehouse
import Logging
import StediTestSupport
import Testing

@testable import Ingestion

/// The service's promise that logs never carry a credential or a record's contents, checked by
/// capturing every log entry (down to trace, the service's, the ingestor's and the HTTP
/// server's) while accepted and rejected requests of every kind go through a live server.
@Suite struct LoggingPrivacyTests {
  static let serial = "SERIAL-ZQX-4417"
  static let email = "zelda.quux@example.org"
  static let name = "Zelda Quux"

  @Test func theServiceNeverLogsATokenOrARecordsContents() async throws {
    let capture = LogCapture()
    let logger = capture.logger
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let metrics = IngestMetrics()
    let (ingestor, _) = try await Ingestor.open(
      storage: lake.storage, logDirectory: lake.logFolder, limits: BatchLimits(maxAge: .seconds(600)),
      metrics: metrics, logger: logger)
    let service = IngestService(ingestor: ingestor, key: IngestFakes.key, metrics: metrics, logger: logger)
    let device = IngestFakes.token(.device, Self.serial).signed(with: IngestFakes.key)
    let user = IngestFakes.token(.user, Self.email).signed(with: IngestFakes.key)
    let admin = IngestFakes.token(.admin, "ops").signed(with: IngestFakes.key)
    let expired = IngestFakes.token(.device, Self.serial, expiresIn: -60).signed(with: IngestFakes.key)
    // A token whose signature is wrong: a guess at a secret must not be logged either.
    let forged = String(device.dropLast(4)) + "AAAA"
    let customer =
      #"{"customerName":"\#(Self.name)","email":"\#(Self.email)","phone":"8015550199","birthDay":"1990-01-01","#
      + #""serialNumber":"\#(Self.serial)","registrationDate":1700000000000,"lastUpdateDate":1700000000000,"#
      + #""shareWithResearchAsOfDate":1700000000000}"#
    let requests: [(path: String, token: String?, body: String)] = [
      ("/v1/step-trainer/readings", device, IngestFakes.stepTrainerBody(serial: Self.serial, count: 3)),
      ("/v1/accelerometer/readings", user, #"{"user":"\#(Self.email)","timestamp":1700000000000,"x":1,"y":2,"z":3}"#),
      ("/v1/customers", admin, customer),
      // Rejected: a reading of another serial, a wrong type naming the record's value, bad JSON
      // around personal data, a blank email, the wrong role, and every kind of bad token.
      (
        "/v1/step-trainer/readings", IngestFakes.token(.device, "OTHER-1").signed(with: IngestFakes.key),
        IngestFakes.stepTrainerBody(serial: Self.serial, count: 1)
      ),
      (
        "/v1/step-trainer/readings", device,
        #"{"sensorReadingTime":1700000000000,"serialNumber":"\#(Self.serial)","distanceFromObject":"\#(Self.name)"}"#
      ),
      ("/v1/customers", admin, #"{"customerName":"\#(Self.name)","email":"\#(Self.email)""#),
      ("/v1/customers", admin, customer.replacingOccurrences(of: Self.email, with: " ")),
      ("/v1/customers", device, customer),
      ("/v1/step-trainer/readings", forged, IngestFakes.stepTrainerBody(serial: Self.serial, count: 1)),
      ("/v1/step-trainer/readings", expired, IngestFakes.stepTrainerBody(serial: Self.serial, count: 1)),
      (
        "/v1/step-trainer/readings", "not-a-token-\(Self.email)",
        IngestFakes.stepTrainerBody(serial: Self.serial, count: 1)
      ),
      ("/v1/step-trainer/readings", nil, IngestFakes.stepTrainerBody(serial: Self.serial, count: 1)),
    ]
    let app = Application(router: service.router(), logger: logger)
    let statuses = try await app.test(.live) { client in
      var statuses: [Int] = []
      for request in requests {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token = request.token { headers[.authorization] = "Bearer \(token)" }
        let response = try await client.execute(
          uri: request.path, method: .post, headers: headers, body: ByteBuffer(string: request.body))
        statuses.append(response.status.code)
      }
      return statuses
    }
    await ingestor.shutdown(grace: .seconds(2))
    #expect(statuses == [202, 202, 202, 403, 400, 400, 400, 403, 401, 401, 401, 401], "\(statuses)")
    let logged = capture.lines
    // The rejections were logged (so the check below looked at something).
    #expect(logged.filter { $0.contains("request rejected") }.count == 9, "\(logged)")
    let secrets =
      [device, user, admin, expired, forged, String(device.split(separator: ".").last ?? "")]
      + [Self.serial, Self.serial.lowercased(), Self.email, Self.name, "8015550199", "not-a-token"]
    for line in logged {
      for secret in secrets where !secret.isEmpty {
        #expect(!line.contains(secret), "logged \(secret): \(line)")
      }
    }
  }
}
