import Foundation

/// A table's columns as Delta declares them (a flat struct type).
public struct DeltaSchema: Sendable, Equatable {
  /// One column.
  public struct Field: Sendable, Equatable {
    /// The column's name.
    public var name: String
    /// Delta's primitive type name: `long`, `double`, `string`, `boolean`, `integer`, `date`, `timestamp`.
    public var type: String
    /// Whether the column may be null.
    public var nullable: Bool

    /// A column.
    public init(name: String, type: String, nullable: Bool) {
      self.name = name
      self.type = type
      self.nullable = nullable
    }
  }

  /// The columns, in order.
  public var fields: [Field]

  /// A schema of `fields`.
  public init(_ fields: [Field]) { self.fields = fields }

  /// The primitive types this module writes and reads back.
  public static let primitiveTypes: Set<String> = [
    "long", "double", "string", "boolean", "integer", "date", "timestamp",
  ]

  private struct JSONField: Codable {
    var name: String
    var type: String
    var nullable: Bool
    var metadata: [String: String]
  }

  private struct JSONStruct: Codable {
    var type: String
    var fields: [JSONField]
  }

  /// The schema as Delta's `schemaString`: `{"type":"struct","fields":[...]}`.
  var jsonString: String {
    let document = JSONStruct(
      type: "struct",
      fields: fields.map { JSONField(name: $0.name, type: $0.type, nullable: $0.nullable, metadata: [:]) })
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding plain strings and booleans cannot fail.
    return String(decoding: (try? encoder.encode(document)) ?? Data(), as: UTF8.self)
  }

  /// The schema a `schemaString` states; nil when it is not a flat struct of primitive types.
  init?(jsonString: String) {
    guard let document = try? JSONDecoder().decode(JSONStruct.self, from: Data(jsonString.utf8)),
      document.type == "struct"
    else { return nil }
    fields = document.fields.map { Field(name: $0.name, type: $0.type, nullable: $0.nullable) }
  }
}
