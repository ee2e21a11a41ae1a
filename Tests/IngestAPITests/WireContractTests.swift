import IngestAPI
import Lakehouse
import NIOCore
import Testing

/// The bodies as the service writes them, byte for byte: the phone page, the fleet and the
/// capture command read these field names.
@Suite struct WireContractTests {
  @Test func thePathsAreTheServicesPaths() {
    #expect(IngestPath.records(.stepTrainer) == "/v1/step-trainer/readings")
    #expect(IngestPath.records(.accelerometer) == "/v1/accelerometer/readings")
    #expect(IngestPath.records(.customer) == "/v1/customers")
    #expect(
      IngestPath.postedSources.map(IngestPath.records) == [
        IngestPath.stepTrainerReadings, IngestPath.accelerometerReadings, IngestPath.customers,
      ])
    #expect([IngestPath.healthz, IngestPath.metrics, IngestPath.phone] == ["/healthz", "/metrics", "/phone"])
    let client = IngestClient(baseURL: "http://127.0.0.1:8080/")
    #expect(client.url(for: .customer) == "http://127.0.0.1:8080/v1/customers")
  }

  @Test func theAcknowledgementLeavesOutANullRefusal() throws {
    #expect(IngestJSON.string(IngestAcknowledgement(accepted: 25)) == #"{"accepted":25}"#)
    #expect(IngestJSON.string(IngestAcknowledgement(accepted: 25, refused: 0)) == #"{"accepted":25}"#)
    #expect(IngestJSON.string(IngestAcknowledgement(accepted: 20, refused: 5)) == #"{"accepted":20,"refused":5}"#)
    for text in [#"{"accepted":25}"#, #"{"accepted":20,"refused":5}"#] {
      let decoded = try IngestJSON.decode(IngestAcknowledgement.self, from: Array(text.utf8))
      #expect(IngestJSON.string(decoded) == text)
    }
  }

  @Test func theErrorBodyIsTheOneTheServiceAlwaysSent() throws {
    let rejection = IngestRejection(
      status: 400, reason: "wrong_type", message: #"field "distanceFromObject" must be a number (a/b)"#, line: 3,
      record: 3, field: "distanceFromObject")
    #expect(
      rejection.json
        == #"{"error":"field \"distanceFromObject\" must be a number (a/b)","field":"distanceFromObject","line":3,"reason":"wrong_type","record":3}"#
    )
    #expect(
      IngestRejection(status: 503, reason: "buffers_full", message: "retry later").json
        == #"{"error":"retry later","reason":"buffers_full"}"#)
    let decoded = try IngestJSON.decode(IngestErrorBody.self, from: Array(rejection.json.utf8))
    #expect(IngestRejection(status: 400, body: decoded) == rejection)
  }

  /// The escaping of the string interpolation the service used before: the same bytes. (The keys
  /// are sorted now; before, `reason` came second.)
  @Test(arguments: ["plain", "quote \" and backslash \\", "slash / and é ☃", "new\nline\ttab\r"])
  func messagesAreEscapedAsBefore(message: String) {
    let before =
      #"{"error":\#(String(decoding: NDJSONBuffer.quoted(message), as: UTF8.self)),"field":"f","reason":"r"}"#
    #expect(IngestRejection(status: 400, reason: "r", message: message, field: "f").json == before)
  }

  @Test func theHealthBody() throws {
    let healthy = IngestHealth(bufferedBytes: 10, reservedBytes: 2, batchesLanding: 1, batchesFailing: 0)
    #expect(
      IngestJSON.string(healthy)
        == #"{"batchesFailing":0,"batchesLanding":1,"bufferedBytes":10,"reservedBytes":2,"status":"ok"}"#)
    let unhealthy = IngestHealth(
      problem: "landing_failing", bufferedBytes: 10, reservedBytes: 0, batchesLanding: 1, batchesFailing: 1)
    let text =
      #"{"batchesFailing":1,"batchesLanding":1,"bufferedBytes":10,"error":"","reason":"landing_failing","reservedBytes":0,"status":"unhealthy"}"#
    #expect(IngestJSON.string(unhealthy) == text)
    #expect(try IngestJSON.decode(IngestHealth.self, from: Array(text.utf8)) == unhealthy)
    #expect(healthy.isHealthy && !unhealthy.isHealthy)
  }

  @Test func aShort202IsNotDecodedForItsRefusals() {
    #expect(IngestResponse(status: 202, body: ByteBuffer(string: #"{"accepted":20,"refused":5}"#)).refused == 5)
    #expect(IngestResponse(status: 202, body: ByteBuffer(string: #"{"accepted":25}"#)).refused == 0)
    // Too short to hold a count: not decoded, so even garbage reads as none refused.
    #expect(IngestResponse(status: 202, body: ByteBuffer(string: "not json")).refused == 0)
    #expect(
      IngestResponse(status: 202, body: ByteBuffer(string: #"{"accepted":25}"#)).acknowledgement()?.accepted == 25)
    let refused = IngestResponse(
      status: 403, body: ByteBuffer(string: #"{"error":"no","reason":"wrong_serial","line":1}"#))
    #expect(refused.rejection == IngestRejection(status: 403, reason: "wrong_serial", message: "no", line: 1))
    #expect(refused.acknowledgement() == nil && refused.refused == 0)
    #expect(IngestResponse(status: 502, body: ByteBuffer(string: "<html>bad gateway</html>")).rejection == nil)
  }
}
