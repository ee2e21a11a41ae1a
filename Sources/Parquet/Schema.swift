/// A column's value type: the Parquet physical type (and, for strings, the STRING logical type).
public enum ParquetType: Sendable, Equatable, Hashable {
  /// INT64 (optionally annotated TIMESTAMP(UTC, MILLIS); see `ParquetColumn.timestampMillisUTC`).
  case int64
  /// DOUBLE.
  case double
  /// BYTE_ARRAY annotated STRING (and the legacy UTF8 converted type): UTF-8 bytes.
  case string
  /// BOOLEAN.
  case boolean
}

/// One column of a flat schema.
public struct ParquetColumn: Sendable, Equatable, Hashable {
  /// The column's name (its one-element path in the schema).
  public var name: String
  /// Its value type.
  public var type: ParquetType
  /// OPTIONAL (may hold nulls) when true, REQUIRED otherwise.
  public var optional: Bool
  /// For `.int64` only: annotate TIMESTAMP(isAdjustedToUTC=true, unit=MILLIS) (and TIMESTAMP_MILLIS).
  public var timestampMillisUTC: Bool

  /// A column; `timestampMillisUTC` is honoured for `.int64` only.
  public init(name: String, type: ParquetType, optional: Bool = false, timestampMillisUTC: Bool = false) {
    self.name = name
    self.type = type
    self.optional = optional
    self.timestampMillisUTC = timestampMillisUTC && type == .int64
  }
}

/// A flat schema: the columns, in order.
public struct ParquetSchema: Sendable, Equatable, Hashable {
  /// The columns, in file order.
  public var columns: [ParquetColumn]

  /// A schema of these columns.
  public init(_ columns: [ParquetColumn]) {
    self.columns = columns
  }
}

/// One value, for row-wise appends and reads (column batches avoid it on hot paths).
public enum ParquetValue: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// An INT64 (or timestamp, in milliseconds since the epoch).
  case int64(Int64)
  /// A DOUBLE.
  case double(Double)
  /// A STRING.
  case string(String)
  /// A BOOLEAN.
  case bool(Bool)
  /// No value (optional columns only).
  case null

  /// The value as a short literal, for messages.
  public var description: String {
    switch self {
    case .int64(let v): return String(v)
    case .double(let v): return String(v)
    case .string(let v): return "\"\(v)\""
    case .bool(let v): return String(v)
    case .null: return "null"
    }
  }
}

/// A column's values for a run of rows, Arrow-style: one slot per row, nulls marked in `valid`.
///
/// For `.string`, row `i` is `bytes[offsets[i]..<offsets[i + 1]]` (UTF-8), so a batch is three
/// arrays however many strings it holds. `valid == nil` means no nulls; a null's slot holds 0,
/// false or an empty string.
public enum ParquetColumnValues: Sendable, Equatable {
  /// INT64 values (timestamps in milliseconds since the epoch).
  case int64([Int64], valid: [Bool]? = nil)
  /// DOUBLE values.
  case double([Double], valid: [Bool]? = nil)
  /// BOOLEAN values.
  case boolean([Bool], valid: [Bool]? = nil)
  /// STRING values: UTF-8 bytes back to back, and `count + 1` offsets into them starting at 0.
  case string(bytes: [UInt8], offsets: [Int], valid: [Bool]? = nil)

  /// The number of rows.
  public var count: Int {
    switch self {
    case .int64(let v, _): return v.count
    case .double(let v, _): return v.count
    case .boolean(let v, _): return v.count
    case .string(_, let offsets, _): return max(offsets.count - 1, 0)
    }
  }

  /// The null mask, if any.
  public var valid: [Bool]? {
    switch self {
    case .int64(_, let v), .double(_, let v), .boolean(_, let v), .string(_, _, let v): return v
    }
  }

  /// The value type these values fit.
  public var type: ParquetType {
    switch self {
    case .int64: return .int64
    case .double: return .double
    case .boolean: return .boolean
    case .string: return .string
    }
  }

  /// Row `row` as a `ParquetValue` (allocates for strings: for tests and small reads).
  public subscript(row: Int) -> ParquetValue {
    if let valid, !valid[row] { return .null }
    switch self {
    case .int64(let v, _): return .int64(v[row])
    case .double(let v, _): return .double(v[row])
    case .boolean(let v, _): return .bool(v[row])
    case .string(let bytes, let offsets, _):
      return .string(String(decoding: bytes[offsets[row]..<offsets[row + 1]], as: UTF8.self))
    }
  }

  /// Strings (nil for null) packed into one column batch.
  public static func strings(_ values: [String?]) -> ParquetColumnValues {
    var bytes: [UInt8] = []
    var offsets = [0]
    offsets.reserveCapacity(values.count + 1)
    var valid: [Bool] = []
    valid.reserveCapacity(values.count)
    for value in values {
      if let value { bytes.append(contentsOf: value.utf8) }
      offsets.append(bytes.count)
      valid.append(value != nil)
    }
    return .string(bytes: bytes, offsets: offsets, valid: valid.contains(false) ? valid : nil)
  }
}

/// A problem with a Parquet file or with the writer's input; `description` is one line naming what and where.
public enum ParquetError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file ends before something it declares (a page, the footer, a value).
  case truncated(String, offset: Int)
  /// The bytes contradict the format (bad magic, impossible sizes, bad levels).
  case malformed(String, offset: Int)
  /// A valid file using something this module does not read (nesting, codec, encoding, type).
  case unsupported(String)
  /// A column-level problem, wrapping the error with the column's name.
  indirect case inColumn(String, rowGroup: Int, ParquetError)
  /// The writer was given values that do not fit its schema.
  case invalidInput(String)
  /// The compression library failed.
  case codec(String)

  /// One line: what is wrong, and where.
  public var description: String {
    switch self {
    case .truncated(let what, let offset): return "truncated Parquet: \(what) at byte \(offset)"
    case .malformed(let what, let offset): return "malformed Parquet: \(what) at byte \(offset)"
    case .unsupported(let what): return "unsupported Parquet: \(what)"
    case .inColumn(let column, let rowGroup, let inner):
      return "\(inner.description) (column \"\(column)\", row group \(rowGroup))"
    case .invalidInput(let what): return "Parquet writer: \(what)"
    case .codec(let what): return "Parquet compression: \(what)"
    }
  }
}
