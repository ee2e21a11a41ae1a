import Parquet

/// Where one column's values come from when a table's rows become Parquet columns: a function
/// from a row's index to its value (nil for null).
enum ParquetColumnSource {
  case int64((Int) -> Int64?)
  case double((Int) -> Double)
  /// UTF-8 bytes; callers pass prebuilt arrays so repeated values (an email) are not re-encoded.
  case string((Int) -> [UInt8]?)

  /// The columns of `schema`, in its order, for `rows` (indices into the caller's rows), each
  /// taken from the source named like it. A column without a source is a programming error that
  /// the pipeline's tests catch on their first run.
  static func columns(_ schema: TableSchema, rows: [Int32], sources: [String: ParquetColumnSource])
    -> [ParquetColumnValues]
  {
    schema.columns.map { column in
      guard let source = sources[column.name] else {
        preconditionFailure("\(schema.name) has a column \(column.name) that nothing fills")
      }
      return source.values(rows: rows, required: column.required)
    }
  }

  func values(rows: [Int32], required: Bool) -> ParquetColumnValues {
    var valid = [Bool]()
    if !required { valid.reserveCapacity(rows.count) }
    switch self {
    case .int64(let value):
      var numbers = [Int64]()
      numbers.reserveCapacity(rows.count)
      for row in rows {
        let number = value(Int(row))
        numbers.append(number ?? 0)
        if !required { valid.append(number != nil) }
      }
      return .int64(numbers, valid: valid.contains(false) ? valid : nil)
    case .double(let value):
      var numbers = [Double]()
      numbers.reserveCapacity(rows.count)
      for row in rows { numbers.append(value(Int(row))) }
      return .double(numbers)
    case .string(let value):
      var bytes = [UInt8]()
      var offsets = [Int]()
      offsets.reserveCapacity(rows.count + 1)
      offsets.append(0)
      for row in rows {
        let text = value(Int(row))
        if let text { bytes.append(contentsOf: text) }
        offsets.append(bytes.count)
        if !required { valid.append(text != nil) }
      }
      return .string(bytes: bytes, offsets: offsets, valid: valid.contains(false) ? valid : nil)
    }
  }
}
