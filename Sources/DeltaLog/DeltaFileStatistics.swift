import Foundation

/// A data file's statistics as Delta readers use them to skip files: rows, and per column the
/// smallest and largest value and the number of nulls.
public struct DeltaFileStatistics: Codable, Sendable, Equatable {
  /// A statistic's value: Delta writes them as JSON numbers or strings.
  public enum Value: Codable, Sendable, Equatable {
    /// An integer column's value.
    case integer(Int64)
    /// A floating-point column's value.
    case double(Double)
    /// A string column's value (or a date or timestamp as text).
    case string(String)

    public init(from decoder: any Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let integer = try? container.decode(Int64.self) {
        self = .integer(integer)
      } else if let double = try? container.decode(Double.self) {
        self = .double(double)
      } else {
        self = .string(try container.decode(String.self))
      }
    }

    public func encode(to encoder: any Encoder) throws {
      var container = encoder.singleValueContainer()
      switch self {
      case .integer(let value): try container.encode(value)
      case .double(let value): try container.encode(value)
      case .string(let value): try container.encode(value)
      }
    }
  }

  /// The file's rows.
  public var numRecords: Int64
  /// Each column's smallest value (columns that are all null are left out).
  public var minValues: [String: Value]
  /// Each column's largest value.
  public var maxValues: [String: Value]
  /// Each column's nulls.
  public var nullCount: [String: Int64]

  /// Statistics of a file.
  public init(numRecords: Int64, minValues: [String: Value], maxValues: [String: Value], nullCount: [String: Int64]) {
    self.numRecords = numRecords
    self.minValues = minValues
    self.maxValues = maxValues
    self.nullCount = nullCount
  }

  /// The statistics as the JSON string an add action carries.
  var jsonString: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Doubles in statistics are finite (min and max of real values), so encoding cannot fail.
    return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
  }
}
