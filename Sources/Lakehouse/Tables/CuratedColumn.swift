// machine_learning_curated is the table the ML team trains on and the one most likely to grow a
// column, so its columns are an enum: a writer that forgets a new case does not compile.

/// A column of machine_learning_curated, in the table's order.
public enum CuratedColumn: Int, CaseIterable, Sendable {
  case sensorReadingTime
  case serialNumber
  case distanceFromObject
  case x
  case y
  case z
  /// The customer's pseudonym (`PseudonymKey.subjectId`).
  case subjectId
  /// The customer's email: only under the udacity profile (`ZoneRules.curatedIncludesEmail`).
  case user

  /// The columns the table has under `rules`.
  public static func columns(rules: ZoneRules) -> [CuratedColumn] {
    rules.curatedIncludesEmail ? allCases : allCases.filter { $0 != .user }
  }

  /// The column's name in the table.
  public var name: StaticString {
    switch self {
    case .sensorReadingTime: "sensorReadingTime"
    case .serialNumber: "serialNumber"
    case .distanceFromObject: "distanceFromObject"
    case .x: "x"
    case .y: "y"
    case .z: "z"
    case .subjectId: "subjectId"
    case .user: "user"
    }
  }

  /// The column's name as a String (for messages: it allocates).
  public var label: String { name.description }

  /// The column whose name is the JSON string `key` of `line`.
  package static func named(_ key: JSONStringToken, in line: UnsafeBufferPointer<UInt8>) -> CuratedColumn? {
    for column in allCases where line.stringEquals(key, column.name) { return column }
    return nil
  }

  /// The column's name, type and whether a row must have it.
  public var column: TableColumn {
    let name = label
    switch self {
    case .sensorReadingTime: return TableColumn(name, .int64, required: true)
    case .serialNumber, .subjectId: return TableColumn(name, .string, required: true)
    case .distanceFromObject, .x, .y, .z: return TableColumn(name, .double, required: true)
    case .user: return TableColumn(name, .string, required: false, identifiesPerson: true)
    }
  }

  /// Renders one row as an NDJSON line with `columns`, in their order. Strings come quoted
  /// (`NDJSONBuffer.quoted`): the pipeline quotes each serial number and pseudonym once, not per row.
  /// A row without a user has no `user` member, as the landing data leaves absent values out.
  @inline(__always)
  package static func render(
    _ columns: [CuratedColumn], into buffer: inout NDJSONBuffer, sensorReadingTime: Int64,
    quotedSerialNumber: [UInt8], distanceFromObject: Double, x: Double, y: Double, z: Double,
    quotedSubjectId: [UInt8], quotedUser: [UInt8]?
  ) {
    buffer.beginObject()
    for column in columns {
      switch column {
      case .sensorReadingTime: buffer.field(column.name, sensorReadingTime)
      case .serialNumber: buffer.field(column.name, quoted: quotedSerialNumber)
      case .distanceFromObject: buffer.field(column.name, measurement: distanceFromObject)
      case .x: buffer.field(column.name, x)
      case .y: buffer.field(column.name, y)
      case .z: buffer.field(column.name, z)
      case .subjectId: buffer.field(column.name, quoted: quotedSubjectId)
      case .user: if let quotedUser { buffer.field(column.name, quoted: quotedUser) }
      }
    }
    buffer.endObject()
  }
}
