import Foundation
import Testing

@testable import Lakehouse

/// One batch of landing files: the records' own rendering, raw lines kept as they are, bounded
/// buffers, nothing visible before `finish()`, and the redelivered copy.
@Suite struct LandingBatchWriterTests {
  static let tables = [
    LandingBatchWriter.Table("customer", spaced: true), LandingBatchWriter.Table("accelerometer"),
    LandingBatchWriter.Table("step_trainer"), LandingBatchWriter.Table("step_events"),
  ]

  static func temporaryLake() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("LandingBatchWriterTests-\(UUID().uuidString)").path
  }

  static func rendered(spaced: Bool = false, _ render: (inout NDJSONBuffer) -> Void) -> [UInt8] {
    var buffer = NDJSONBuffer(spaced: spaced)
    render(&buffer)
    return buffer.bytes
  }

  static func contents(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map(Array.init) }

  @Test func everyTableGetsOneFileInTheRecordsOwnFormat() throws {
    let lake = Self.temporaryLake()
    defer { try? FileManager.default.removeItem(atPath: lake) }
    let customer = CustomerRecord(
      customerName: "Ada Lovelace", email: "ada@example.com", serialNumber: "sn-1", registrationDate: 1,
      lastUpdateDate: 2, shareWithResearchAsOfDate: 3)
    let readings = [
      AccelerometerReading(user: "ada@example.com", timestamp: 10, x: 0.5, y: -1, z: 9.81),
      AccelerometerReading(user: "ada@example.com", timestamp: 20, x: 1, y: 0, z: 0),
      AccelerometerReading(user: "bob \"b\"@example.com", timestamp: 30, x: 0, y: 0, z: 1),
    ]
    let trainer = [
      StepTrainerReading(sensorReadingTime: 5, serialNumber: "sn-1", distanceFromObject: 240),
      StepTrainerReading(sensorReadingTime: 6, serialNumber: "sn-2", distanceFromObject: 241.5),
    ]
    var writer = LandingBatchWriter(lake: lake, deliveryTime: 1_700_000_000_000, tables: Self.tables)
    writer.write(customer, to: 0)
    writer.writeRaw(Array("{\"email\": broken".utf8), to: 0, last: false)
    writer.writeRaw(Array("{\"trailing".utf8), to: 0, last: true)
    for reading in readings { writer.write(reading, to: 1) }
    for reading in trainer { writer.write(reading, to: 2) }
    // Nothing is visible before the batch is published.
    #expect(!FileManager.default.fileExists(atPath: "\(lake)/customer/landing/customer-1700000000000.json"))
    let published = try writer.finish()

    #expect(
      published
        == Self.tables.map { "\(lake)/\($0.name)/landing/\($0.name)-1700000000000.json" })
    let customerLines = Self.rendered(spaced: true) { customer.render(into: &$0) }
    #expect(Self.contents(published[0]) == customerLines + Array("{\"email\": broken\n{\"trailing".utf8))
    let readingLines = Self.rendered { buffer in for reading in readings { reading.render(into: &buffer) } }
    #expect(Self.contents(published[1]) == readingLines)
    let trainerLines = Self.rendered { buffer in for reading in trainer { reading.render(into: &buffer) } }
    #expect(Self.contents(published[2]) == trainerLines)
    #expect(Self.contents(published[3]) == [], "a table with no lines is published empty")
    for table in Self.tables {
      let names = try FileManager.default.contentsOfDirectory(atPath: "\(lake)/\(table.name)/landing")
      #expect(names == ["\(table.name)-1700000000000.json"], "no temporary file left")
    }
  }

  @Test func aLargeTableIsStreamedThroughItsBufferAndPublishedWhole() throws {
    let lake = Self.temporaryLake()
    defer { try? FileManager.default.removeItem(atPath: lake) }
    var writer = LandingBatchWriter(lake: lake, deliveryTime: 7, tables: [LandingBatchWriter.Table("step_events")])
    var expected = NDJSONBuffer()
    var count = 0
    while expected.bytes.count < 2 * LandingBatchWriter.flushThreshold + 1000 {
      let time = Int64(count)
      writer.write(to: 0) { buffer in
        buffer.beginObject()
        buffer.field("user", "someone@example.com")
        buffer.field("timestamp", time)
        buffer.endObject()
      }
      expected.beginObject()
      expected.field("user", "someone@example.com")
      expected.field("timestamp", time)
      expected.endObject()
      count += 1
    }
    let final = "\(lake)/step_events/landing/step_events-7.json"
    #expect(!FileManager.default.fileExists(atPath: final), "flushed bytes go to a hidden file until finish")
    let published = try writer.finish()
    #expect(published == [final])
    #expect(Self.contents(final) == expected.bytes)
    #expect(writer.failure == nil)
  }

  @Test func aRedeliveredFileIsAnExactCopyUnderTheLaterDeliveryTime() throws {
    let lake = Self.temporaryLake()
    defer { try? FileManager.default.removeItem(atPath: lake) }
    var writer = LandingBatchWriter(lake: lake, deliveryTime: 1000, tables: [LandingBatchWriter.Table("step_trainer")])
    writer.write(StepTrainerReading(sensorReadingTime: 1, serialNumber: "sn", distanceFromObject: 3), to: 0)
    let published = try writer.finish()
    let copy = try LandingBatchWriter.redeliver(published[0], table: "step_trainer", lake: lake, deliveryTime: 1500)
    #expect(copy == "\(lake)/step_trainer/landing/step_trainer-1500.json")
    #expect(Self.contents(copy) == Self.contents(published[0]))
  }

  @Test func aLakeThatCannotBeWrittenFailsTheBatchWithALakeError() throws {
    let blocker = Self.temporaryLake()
    try Data("not a folder".utf8).write(to: URL(fileURLWithPath: blocker))
    defer { try? FileManager.default.removeItem(atPath: blocker) }
    var writer = LandingBatchWriter(lake: "\(blocker)/lake", deliveryTime: 1, tables: [LandingBatchWriter.Table("x")])
    writer.writeRaw(Array("{}".utf8), to: 0, last: false)
    do {
      _ = try writer.finish()
      Issue.record("the batch was published under a file")
    } catch {
      #expect(writer.failure != nil)
    }
  }
}
