import LakeStorage
import Lakehouse
import Motion

// This module is the one place that sees both `Motion`'s `DatasetSink` and `Lakehouse` (which
// know nothing of each other).

/// The generator's output into `Lakehouse`'s `LandingBatchWriter`, table by table in the public
/// data's exact format.
public struct LandingDatasetSink: DatasetSink {
  /// The generated tables, in `DatasetTable.allCases` order: a table's position is its number in the writer.
  static let tables = DatasetTable.allCases.map {
    // The public customer files separate members the way Python's json.dumps does.
    LandingBatchWriter.Table($0.rawValue, spaced: $0 == .customer)
  }
  private static func slot(_ table: DatasetTable) -> Int { DatasetTable.allCases.firstIndex(of: table)! }
  private static let customerSlot = slot(.customer)
  private static let accelerometerSlot = slot(.accelerometer)
  private static let stepTrainerSlot = slot(.stepTrainer)
  private static let stepEventsSlot = slot(.stepEvents)

  private(set) var writer: LandingBatchWriter

  /// A batch of landing files in `lake`, named after `deliveryTime`.
  public init(lake: String, deliveryTime: Int64) {
    writer = LandingBatchWriter(lake: lake, deliveryTime: deliveryTime, tables: Self.tables)
  }

  public mutating func customer(_ customer: GeneratedCustomer) {
    writer.write(
      CustomerRecord(
        customerName: customer.customerName, email: customer.email, phone: customer.phone, birthDay: customer.birthDay,
        serialNumber: customer.serialNumber, registrationDate: customer.registrationDate,
        lastUpdateDate: customer.lastUpdateDate, shareWithResearchAsOfDate: customer.shareWithResearchAsOfDate,
        shareWithPublicAsOfDate: customer.shareWithPublicAsOfDate,
        shareWithFriendsAsOfDate: customer.shareWithFriendsAsOfDate),
      to: Self.customerSlot)
  }

  public mutating func accelerometer(user: String, timestamp: Int64, x: Double, y: Double, z: Double) {
    writer.write(AccelerometerReading(user: user, timestamp: timestamp, x: x, y: y, z: z), to: Self.accelerometerSlot)
  }

  public mutating func stepTrainer(serialNumber: String, sensorReadingTime: Int64, distanceFromObject: Double) {
    writer.write(
      StepTrainerReading(
        sensorReadingTime: sensorReadingTime, serialNumber: serialNumber, distanceFromObject: distanceFromObject),
      to: Self.stepTrainerSlot)
  }

  public mutating func stepEvent(user: String, serialNumber: String, timestamp: Int64, foot: Foot) {
    writer.write(to: Self.stepEventsSlot) { buffer in
      buffer.beginObject()
      buffer.field("user", user)
      buffer.field("serialNumber", serialNumber)
      buffer.field("timestamp", timestamp)
      buffer.field("foot", foot.rawValue)
      buffer.endObject()
    }
  }

  public mutating func malformed(_ table: DatasetTable, line: [UInt8], last: Bool) {
    writer.writeRaw(line, to: Self.slot(table), last: last)
  }

  /// Writes what is left and publishes every file of the batch; returns the published paths.
  public mutating func finish() throws(StorageError) -> [DatasetTable: String] {
    let published = try writer.finish()
    return Dictionary(uniqueKeysWithValues: zip(DatasetTable.allCases, published))
  }
}
