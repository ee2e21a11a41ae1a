import Foundation
import IngestAPI
import Lakehouse
import StediTestSupport
import Testing

@testable import Ingestion

@Suite struct IngestBodyTests {
  private func parse(_ text: String, _ source: LandingSource, _ token: AccessToken) throws(IngestRejection)
    -> IngestBatch
  {
    let bytes = Array(text.utf8)
    return try bytes.withUnsafeBytes { raw in
      Result { () throws(IngestRejection) in try IngestBody.parse(raw, source: source, token: token) }
    }.get()
  }

  private func rejection(_ text: String, _ source: LandingSource, _ token: AccessToken) -> IngestRejection? {
    do {
      _ = try parse(text, source, token)
      return nil
    } catch { return error }
  }

  @Test func arrayAndNDJSONGiveTheSameLandingLines() throws {
    let device = IngestFakes.token(.device, "S-1")
    let ndjson = IngestFakes.stepTrainerBody(serial: "S-1", count: 3)
    let array = "[\n  " + ndjson.split(separator: "\n").joined(separator: ",\n  ") + "\n]"
    let fromLines = try parse(ndjson, .stepTrainer, device)
    let fromArray = try parse(array, .stepTrainer, device)
    #expect(fromLines.count == 3)
    #expect(fromLines.ndjson == fromArray.ndjson)
    #expect(
      String(decoding: fromLines.ndjson, as: UTF8.self).split(separator: "\n").first
        == #"{"sensorReadingTime":1700000000000,"serialNumber":"S-1","distanceFromObject":200}"#)
  }

  @Test func pipelineFieldNamesWhateverTheMemberOrderOrSpacing() throws {
    let user = IngestFakes.token(.user, "a@example.com")
    let batch = try parse(
      #"[ { "z" : 9.5, "x": -0.25, "timestamp": 1700000000123, "y": 0, "user": "a@example.com" } ]"#, .accelerometer,
      user)
    #expect(
      String(decoding: batch.ndjson, as: UTF8.self)
        == #"{"user":"a@example.com","timestamp":1700000000123,"x":-0.25,"y":0.0,"z":9.5}"# + "\n")
  }

  @Test func aBadRecordRejectsTheWholeRequestNamingLineAndField() throws {
    let device = IngestFakes.token(.device, "S-1")
    var lines = IngestFakes.stepTrainerBody(serial: "S-1", count: 5).split(separator: "\n").map(String.init)
    lines[3] = #"{"sensorReadingTime":"soon","serialNumber":"S-1","distanceFromObject":1}"#
    let wrongType = try #require(rejection(lines.joined(separator: "\n"), .stepTrainer, device))
    #expect(wrongType.status == 400)
    #expect(wrongType.line == 4)
    #expect(wrongType.record == 4)
    #expect(wrongType.field == "sensorReadingTime")
    #expect(wrongType.reason == "wrong_type")
    #expect(wrongType.json.contains(#""line":4"#) && wrongType.json.contains(#""field":"sensorReadingTime""#))

    lines[3] = #"{"sensorReadingTime":5,"serialNumber":"S-1"}"#
    let missing = try #require(rejection(lines.joined(separator: "\n"), .stepTrainer, device))
    #expect(missing.reason == "missing_field" && missing.field == "distanceFromObject" && missing.line == 4)

    lines[3] = #"{"sensorReadingTime":5,"serialNu"#
    let truncated = try #require(rejection(lines.joined(separator: "\n"), .stepTrainer, device))
    #expect(truncated.status == 400 && truncated.line == 4)
  }

  @Test func arrayErrorsNameTheLineWhereTheElementStarts() throws {
    let user = IngestFakes.token(.user, "a@example.com")
    let good = #"{"user":"a@example.com","timestamp":1700000000001,"x":0,"y":0,"z":9.8}"#
    let body = "[\n\(good),\n\(good),\n{\"user\":\"a@example.com\",\n\"timestamp\":2,\"x\":0,\"y\":0}\n]"
    let error = try #require(rejection(body, .accelerometer, user))
    #expect(error.line == 4 && error.record == 3 && error.field == "z")

    #expect(rejection("[\(good),", .accelerometer, user)?.reason == "truncated")
    #expect(rejection("[\(good)] x", .accelerometer, user)?.reason == "invalid_json")
    #expect(rejection("[\(good), 3]", .accelerometer, user)?.reason == "not_an_object")
    #expect(rejection("[]", .accelerometer, user)?.reason == "empty")
    #expect(rejection("\n\n", .accelerometer, user)?.reason == "empty")
  }

  @Test func stringsWithBracesAndEscapesDoNotConfuseTheSplitter() throws {
    let admin = IngestFakes.token(.admin, "admin")
    let customer =
      #"{"customerName":"Ann \"{[}]\" Lee","email":"ann@example.com","phone":"1","birthDay":"1990-01-01","serialNumber":"S-9","registrationDate":1700000000001,"lastUpdateDate":1700000000002,"shareWithResearchAsOfDate":1700000000003,"shareWithPublicAsOfDate":null,"shareWithFriendsAsOfDate":null}"#
    let batch = try parse("[\(customer),\(customer)]", .customer, admin)
    #expect(batch.count == 2)
    #expect(String(decoding: batch.ndjson, as: UTF8.self).contains(#"Ann \"{[}]\" Lee"#))
  }

  @Test func tokensOnlyWriteTheirOwnRecords() throws {
    let body =
      IngestFakes.stepTrainerBody(serial: "S-1", count: 3) + IngestFakes.stepTrainerBody(serial: "S-2", count: 1)
    let wrong = try #require(rejection(body, .stepTrainer, IngestFakes.token(.device, "S-1")))
    #expect(wrong.status == 403 && wrong.reason == "wrong_serial" && wrong.line == 4 && wrong.field == "serialNumber")

    let reading = #"{"user":"b@example.com","timestamp":1700000000001,"x":0,"y":0,"z":9.8}"#
    #expect(rejection(reading, .accelerometer, IngestFakes.token(.user, "a@example.com"))?.reason == "wrong_user")
    #expect(rejection(reading, .accelerometer, IngestFakes.token(.device, "S-1"))?.reason == "wrong_role")
    #expect(rejection(reading, .customer, IngestFakes.token(.user, "b@example.com"))?.status == 403)
    #expect(rejection(reading, .accelerometer, IngestFakes.token(.user, "b@example.com")) == nil)
    #expect(rejection(reading, .accelerometer, IngestFakes.token(.admin, "admin")) == nil)
  }
}
