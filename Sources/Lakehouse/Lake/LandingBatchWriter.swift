import Foundation
import LakeStorage

/// Writes one batch of landing files: one NDJSON file per table, `<lake>/<table>/landing/
/// <table>-<deliveryTime>.json`, streamed through a bounded buffer and published atomically by
/// `finish()`. Tables are given by their position in `tables` (an array, not a dictionary: this
/// is the generator's hot path, and nothing here allocates per line).
public struct LandingBatchWriter {
  /// One table of a batch.
  public struct Table: Sendable, Equatable {
    /// The table's name: its folder under the lake and the start of its file name.
    public let name: String
    /// Whether members are separated the way Python's json.dumps does (the public customer files).
    public let spaced: Bool
    /// A table called `name`.
    public init(_ name: String, spaced: Bool = false) {
      self.name = name
      self.spaced = spaced
    }
  }

  /// Buffers are flushed to their file past this size, so memory stays flat however large a batch.
  public static let flushThreshold = 4 << 20

  /// The lake folder.
  public let lake: String
  /// When the batch is delivered, epoch milliseconds: part of every file name.
  public let deliveryTime: Int64
  /// The batch's tables, in the order methods name them by.
  public let tables: [Table]
  /// The first error writing a file; `finish()` throws it.
  public private(set) var failure: StorageError?

  private var buffers: [NDJSONBuffer]
  private var files: [TablePublisher?]
  private var pendingLastLines: [[UInt8]?]
  /// The last user and serial number rendered, quoted: readings repeat them line after line.
  private var lastUser = LastQuoted()
  private var lastSerial = LastQuoted()

  /// A batch of `tables` delivered at `deliveryTime` into the lake at `lake`.
  public init(lake: String, deliveryTime: Int64, tables: [Table]) {
    self.lake = lake
    self.deliveryTime = deliveryTime
    self.tables = tables
    buffers = tables.map { NDJSONBuffer(capacity: Self.flushThreshold + 4096, spaced: $0.spaced) }
    files = Array(repeating: nil, count: tables.count)
    pendingLastLines = Array(repeating: nil, count: tables.count)
  }

  /// The name of `table`'s landing file for the batch delivered at `deliveryTime`.
  public static func fileName(table: String, deliveryTime: Int64) -> String {
    "\(table)-\(deliveryTime).json"
  }

  /// Appends a customer to table number `table`.
  public mutating func write(_ customer: CustomerRecord, to table: Int) {
    customer.render(into: &buffers[table])
    flushIfFull(table)
  }

  /// Appends an accelerometer reading to table number `table`.
  public mutating func write(_ reading: AccelerometerReading, to table: Int) {
    let user = lastUser.quoted(reading.user)
    buffers[table].beginObject()
    buffers[table].field("user", quoted: user)
    buffers[table].field("timestamp", reading.timestamp)
    buffers[table].field("x", reading.x)
    buffers[table].field("y", reading.y)
    buffers[table].field("z", reading.z)
    buffers[table].endObject()
    flushIfFull(table)
  }

  /// Appends a Step Trainer reading to table number `table`.
  public mutating func write(_ reading: StepTrainerReading, to table: Int) {
    let serial = lastSerial.quoted(reading.serialNumber)
    buffers[table].beginObject()
    buffers[table].field("sensorReadingTime", reading.sensorReadingTime)
    buffers[table].field("serialNumber", quoted: serial)
    buffers[table].field("distanceFromObject", measurement: reading.distanceFromObject)
    buffers[table].endObject()
    flushIfFull(table)
  }

  /// Appends a line rendered by `render` (which begins and ends one object) to table number `table`.
  public mutating func write(to table: Int, _ render: (inout NDJSONBuffer) -> Void) {
    render(&buffers[table])
    flushIfFull(table)
  }

  /// Appends a line as it is (bad input on purpose); a `last` line ends its file without a newline.
  public mutating func writeRaw(_ line: [UInt8], to table: Int, last: Bool) {
    if last {
      pendingLastLines[table] = line
    } else {
      buffers[table].appendRaw(contentsOf: line)
      buffers[table].appendRaw(UInt8(ascii: "\n"))
    }
  }

  @inline(__always) private mutating func flushIfFull(_ table: Int) {
    if buffers[table].bytes.count >= Self.flushThreshold { flush(table) }
  }

  private mutating func flush(_ table: Int) {
    guard failure == nil else { return }
    do {
      if files[table] == nil {
        let name = tables[table].name
        files[table] = try TablePublisher(
          folder: "\(lake)/\(name)/landing", fileName: Self.fileName(table: name, deliveryTime: deliveryTime))
      }
      try files[table]!.write(buffers[table].bytes)
      buffers[table].removeAll()
    } catch {
      failure = error
    }
  }

  /// Writes what is left and publishes every table's file (an empty table gets an empty file);
  /// returns the published paths, in `tables` order.
  public mutating func finish() throws(StorageError) -> [String] {
    var published: [String] = []
    for table in tables.indices {
      if let last = pendingLastLines[table] { buffers[table].appendRaw(contentsOf: last) }
      flush(table)
      if let failure { throw failure }
      try files[table]!.commit()
      published.append(files[table]!.finalPath)
    }
    return published
  }

  /// Publishes a copy of a landed file as if delivered again at `deliveryTime` (exact duplicates,
  /// as a redelivering source sends them); returns the copy's path.
  @discardableResult
  public static func redeliver(_ published: String, table: String, lake: String, deliveryTime: Int64)
    throws(StorageError)
    -> String
  {
    let copy = "\(lake)/\(table)/landing/" + fileName(table: table, deliveryTime: deliveryTime)
    guard let contents = FileManager.default.contents(atPath: published) else {
      throw .unreadable(path: published, reason: "the landed file to deliver again is gone")
    }
    try TablePublisher.replaceFile(at: copy, with: Array(contents))
    return copy
  }
}

/// A string's quoted JSON form, kept while the same string comes again (no work, no allocation).
private struct LastQuoted {
  private var value = ""
  private var quotedValue: [UInt8] = []

  mutating func quoted(_ string: String) -> [UInt8] {
    if string != value {
      value = string
      quotedValue = NDJSONBuffer.quoted(string)
    }
    return quotedValue
  }
}
