import Lakehouse
import Motion

/// Writes one generated batch into the lake's landing zone in the public data's exact format:
/// one file per table, streamed through a bounded buffer and published atomically at the end.
struct LandingBatchWriter: DatasetSink {
  /// Buffers are flushed to their file past this size, so memory stays flat however large a batch.
  static let flushThreshold = 4 << 20

  private var files: [DatasetTable: TablePublisher] = [:]
  private var buffers: [DatasetTable: NDJSONBuffer] = [:]
  private var pendingLastLines: [DatasetTable: [UInt8]] = [:]
  private(set) var failure: LakeError?
  let lake: String
  let deliveryTime: Int64

  init(lake: String, deliveryTime: Int64) {
    self.lake = lake
    self.deliveryTime = deliveryTime
    for table in DatasetTable.allCases {
      // The public customer files separate members the way Python's json.dumps does.
      buffers[table] = NDJSONBuffer(capacity: Self.flushThreshold + 4096, spaced: table == .customer)
    }
  }

  static func fileName(_ table: DatasetTable, deliveryTime: Int64) -> String {
    "\(table.rawValue)-\(deliveryTime).json"
  }

  mutating func customer(_ customer: GeneratedCustomer) {
    CustomerRecord(
      customerName: customer.customerName, email: customer.email, phone: customer.phone, birthDay: customer.birthDay,
      serialNumber: customer.serialNumber, registrationDate: customer.registrationDate,
      lastUpdateDate: customer.lastUpdateDate, shareWithResearchAsOfDate: customer.shareWithResearchAsOfDate,
      shareWithPublicAsOfDate: customer.shareWithPublicAsOfDate,
      shareWithFriendsAsOfDate: customer.shareWithFriendsAsOfDate
    ).render(into: &buffers[.customer]!)
    flushIfFull(.customer)
  }

  mutating func accelerometer(user: String, timestamp: Int64, x: Double, y: Double, z: Double) {
    AccelerometerReading.render(user: user, timestamp: timestamp, x: x, y: y, z: z, into: &buffers[.accelerometer]!)
    flushIfFull(.accelerometer)
  }

  mutating func stepTrainer(serialNumber: String, sensorReadingTime: Int64, distanceFromObject: Double) {
    buffers[.stepTrainer]!.beginObject()
    buffers[.stepTrainer]!.field("sensorReadingTime", sensorReadingTime)
    buffers[.stepTrainer]!.field("serialNumber", serialNumber)
    buffers[.stepTrainer]!.field("distanceFromObject", measurement: distanceFromObject)
    buffers[.stepTrainer]!.endObject()
    flushIfFull(.stepTrainer)
  }

  mutating func stepEvent(user: String, serialNumber: String, timestamp: Int64, foot: Foot) {
    buffers[.stepEvents]!.beginObject()
    buffers[.stepEvents]!.field("user", user)
    buffers[.stepEvents]!.field("serialNumber", serialNumber)
    buffers[.stepEvents]!.field("timestamp", timestamp)
    buffers[.stepEvents]!.field("foot", foot.rawValue)
    buffers[.stepEvents]!.endObject()
    flushIfFull(.stepEvents)
  }

  mutating func malformed(_ table: DatasetTable, line: [UInt8], last: Bool) {
    if last {
      pendingLastLines[table] = line
    } else {
      buffers[table]!.appendRaw(contentsOf: line + [UInt8(ascii: "\n")])
    }
  }

  private mutating func flushIfFull(_ table: DatasetTable) {
    if buffers[table]!.bytes.count >= Self.flushThreshold { flush(table) }
  }

  private mutating func flush(_ table: DatasetTable) {
    guard failure == nil else { return }
    do {
      if files[table] == nil {
        files[table] = try TablePublisher(
          folder: "\(lake)/\(table.rawValue)/landing", fileName: Self.fileName(table, deliveryTime: deliveryTime))
      }
      try files[table]!.write(buffers[table]!.bytes)
      buffers[table]!.removeAll()
    } catch {
      failure = error
    }
  }

  /// Writes what is left and publishes every file of the batch; returns the published paths.
  mutating func finish() throws(LakeError) -> [DatasetTable: String] {
    var published: [DatasetTable: String] = [:]
    for table in DatasetTable.allCases {
      if let last = pendingLastLines[table] { buffers[table]!.appendRaw(contentsOf: last) }
      flush(table)
      if let failure { throw failure }
      try files[table]!.commit()
      published[table] = files[table]!.finalPath
    }
    return published
  }
}
