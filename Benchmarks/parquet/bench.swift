// The Parquet module's speed on a table shaped like the pipeline's (timestamps, numbers, a few
// strings with few distinct values, optional columns): column-batch appends, then every column
// decoded. Built by run.sh with swiftc -O from Sources/Parquet, apart from the package build.
import Foundation

@main
struct ParquetBenchmark {
  static func main() throws {
    let arguments = CommandLine.arguments
    let rows = arguments.count > 1 ? Int(arguments[1])! : 2_000_000
    let output = arguments.count > 2 ? arguments[2] : "/tmp/parquet-bench.parquet"

    let schema = ParquetSchema([
      ParquetColumn(name: "sensor_reading_time", type: .int64, timestampMillisUTC: true),
      ParquetColumn(name: "serial_number", type: .string),
      ParquetColumn(name: "distance_from_object", type: .int64),
      ParquetColumn(name: "x", type: .double),
      ParquetColumn(name: "y", type: .double),
      ParquetColumn(name: "z", type: .double, optional: true),
      ParquetColumn(name: "user", type: .string, optional: true),
      ParquetColumn(name: "step", type: .boolean),
      ParquetColumn(name: "session", type: .int64),
      ParquetColumn(name: "source", type: .string),
    ])

    var times = [Int64]()
    var distances = [Int64]()
    var sessions = [Int64]()
    var xs = [Double]()
    var ys = [Double]()
    var zs = [Double]()
    var zValid = [Bool]()
    var steps = [Bool]()
    var serials: [String?] = []
    var users: [String?] = []
    var sources: [String?] = []
    for i in 0..<rows {
      times.append(1_655_564_444_000 + Int64(i) * 20)
      distances.append(Int64((i * 7) % 250))
      sessions.append(Int64(i / 10_000))
      xs.append(sin(Double(i) / 50))
      ys.append(Double(i % 977) / 13)
      zs.append(cos(Double(i) / 30))
      zValid.append(i % 50 != 0)
      steps.append(i % 37 < 3)
      serials.append("serial-\(i / 40_000 % 1_000)")
      users.append(i % 100 == 0 ? nil : "user\(i / 20_000 % 2_000)@example.com")
      sources.append(["step_trainer", "accelerometer"][i % 2])
    }
    let batch: [ParquetColumnValues] = [
      .int64(times), .strings(serials), .int64(distances), .double(xs), .double(ys), .double(zs, valid: zValid),
      .strings(users), .boolean(steps), .int64(sessions), .strings(sources),
    ]

    let writeStart = Date()
    var writer = try ParquetWriter(schema: schema, options: ParquetWriterOptions(compression: .zstd(level: 3)))
    try writer.append(columns: batch)
    let bytes = try writer.finish()
    let writeSeconds = Date().timeIntervalSince(writeStart)

    let readStart = Date()
    let file = try ParquetFile(bytes: bytes)
    var values = 0
    for g in file.rowGroups.indices {
      for c in file.schema.columns.indices { values += try file.readColumn(c, rowGroup: g).count }
    }
    let readSeconds = Date().timeIntervalSince(readStart)
    precondition(values == rows * schema.columns.count)
    try Data(bytes).write(to: URL(fileURLWithPath: output))
    // For run.sh's ratios against pyarrow.
    let timings = "{\"rows\": \(rows), \"write\": \(writeSeconds), \"read\": \(readSeconds), \"bytes\": \(bytes.count)}"
    try Data(timings.utf8).write(to: URL(fileURLWithPath: output + ".json"))
    print(
      String(
        format:
          "swift: %d rows x %d columns, %d row groups, %.1f MB; write %.2f s (%.1f M rows/s), read %.2f s (%.1f M rows/s)",
        rows, schema.columns.count, file.rowGroups.count, Double(bytes.count) / 1e6, writeSeconds,
        Double(rows) / writeSeconds / 1e6, readSeconds, Double(rows) / readSeconds / 1e6))
  }
}
