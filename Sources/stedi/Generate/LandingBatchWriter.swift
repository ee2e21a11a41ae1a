import Lakehouse
import Motion

/// Writes one generated batch into the lake's landing zone in the public data's exact format:
/// one file per table, streamed through a bounded buffer and published atomically at the end.
struct LandingBatchWriter: DatasetSink {
  /// Buffers are flushed to their file past this size, so memory stays flat however large a batch.
  static let flushThreshold = 4 << 20

  /// Per table, in `DatasetTable.allCases` order (an array, not a dictionary: this is the hot path).
  private var buffers: [NDJSONBuffer]
  private var files: [TablePublisher?]
  private var pendingLastLines: [[UInt8]?]
  private(set) var failure: LakeError?
  /// The last user and serial number rendered, quoted: readings repeat them line after line.
  private var lastUser = ""
  private var lastUserQuoted: [UInt8] = []
  private var lastSerial = ""
  private var lastSerialQuoted: [UInt8] = []
  let lake: String
  let deliveryTime: Int64

  init(lake: String, deliveryTime: Int64) {
    self.lake = lake
    self.deliveryTime = deliveryTime
    // The public customer files separate members the way Python's json.dumps does.
    buffers = DatasetTable.allCases.map {
      NDJSONBuffer(capacity: Self.flushThreshold + 4096, spaced: $0 == .customer)
    }
    files = Array(repeating: nil, count: DatasetTable.allCases.count)
    pendingLastLines = Array(repeating: nil, count: DatasetTable.allCases.count)
  }

  static func fileName(_ table: DatasetTable, deliveryTime: Int64) -> String {
    "\(table.rawValue)-\(deliveryTime).json"
  }

  private static func slot(_ table: DatasetTable) -> Int { DatasetTable.allCases.firstIndex(of: table)! }
  private static let customerSlot = slot(.customer)
  private static let accelerometerSlot = slot(.accelerometer)
  private static let stepTrainerSlot = slot(.stepTrainer)
  private static let stepEventsSlot = slot(.stepEvents)

  private mutating func quotedUser(_ user: String) -> [UInt8] {
    if user != lastUser {
      lastUser = user
      lastUserQuoted = NDJSONBuffer.quoted(user)
    }
    return lastUserQuoted
  }

  private mutating func quotedSerial(_ serial: String) -> [UInt8] {
    if serial != lastSerial {
      lastSerial = serial
      lastSerialQuoted = NDJSONBuffer.quoted(serial)
    }
    return lastSerialQuoted
  }

  mutating func customer(_ customer: GeneratedCustomer) {
    CustomerRecord(
      customerName: customer.customerName, email: customer.email, phone: customer.phone, birthDay: customer.birthDay,
      serialNumber: customer.serialNumber, registrationDate: customer.registrationDate,
      lastUpdateDate: customer.lastUpdateDate, shareWithResearchAsOfDate: customer.shareWithResearchAsOfDate,
      shareWithPublicAsOfDate: customer.shareWithPublicAsOfDate,
      shareWithFriendsAsOfDate: customer.shareWithFriendsAsOfDate
    ).render(into: &buffers[Self.customerSlot])
    flushIfFull(Self.customerSlot)
  }

  mutating func accelerometer(user: String, timestamp: Int64, x: Double, y: Double, z: Double) {
    let quoted = quotedUser(user)
    let slot = Self.accelerometerSlot
    buffers[slot].beginObject()
    buffers[slot].field("user", quoted: quoted)
    buffers[slot].field("timestamp", timestamp)
    buffers[slot].field("x", x)
    buffers[slot].field("y", y)
    buffers[slot].field("z", z)
    buffers[slot].endObject()
    flushIfFull(slot)
  }

  mutating func stepTrainer(serialNumber: String, sensorReadingTime: Int64, distanceFromObject: Double) {
    let quoted = quotedSerial(serialNumber)
    let slot = Self.stepTrainerSlot
    buffers[slot].beginObject()
    buffers[slot].field("sensorReadingTime", sensorReadingTime)
    buffers[slot].field("serialNumber", quoted: quoted)
    buffers[slot].field("distanceFromObject", measurement: distanceFromObject)
    buffers[slot].endObject()
    flushIfFull(slot)
  }

  mutating func stepEvent(user: String, serialNumber: String, timestamp: Int64, foot: Foot) {
    let slot = Self.stepEventsSlot
    buffers[slot].beginObject()
    buffers[slot].field("user", user)
    buffers[slot].field("serialNumber", serialNumber)
    buffers[slot].field("timestamp", timestamp)
    buffers[slot].field("foot", foot.rawValue)
    buffers[slot].endObject()
    flushIfFull(slot)
  }

  mutating func malformed(_ table: DatasetTable, line: [UInt8], last: Bool) {
    let slot = Self.slot(table)
    if last {
      pendingLastLines[slot] = line
    } else {
      buffers[slot].appendRaw(contentsOf: line + [UInt8(ascii: "\n")])
    }
  }

  @inline(__always) private mutating func flushIfFull(_ slot: Int) {
    if buffers[slot].bytes.count >= Self.flushThreshold { flush(slot) }
  }

  private mutating func flush(_ slot: Int) {
    guard failure == nil else { return }
    let table = DatasetTable.allCases[slot]
    do {
      if files[slot] == nil {
        files[slot] = try TablePublisher(
          folder: "\(lake)/\(table.rawValue)/landing", fileName: Self.fileName(table, deliveryTime: deliveryTime))
      }
      try files[slot]!.write(buffers[slot].bytes)
      buffers[slot].removeAll()
    } catch {
      failure = error
    }
  }

  /// Writes what is left and publishes every file of the batch; returns the published paths.
  mutating func finish() throws(LakeError) -> [DatasetTable: String] {
    var published: [DatasetTable: String] = [:]
    for (slot, table) in DatasetTable.allCases.enumerated() {
      if let last = pendingLastLines[slot] { buffers[slot].appendRaw(contentsOf: last) }
      flush(slot)
      if let failure { throw failure }
      try files[slot]!.commit()
      published[table] = files[slot]!.finalPath
    }
    return published
  }
}
