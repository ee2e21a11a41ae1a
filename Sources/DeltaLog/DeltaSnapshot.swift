/// One version of a Delta table: its protocol, metadata and the data files that make it up.
public struct DeltaSnapshot: Sendable, Equatable {
  /// The table's folder.
  public let table: String
  /// The version this snapshot is (-1 before version 0 is applied).
  public private(set) var version: Int64 = -1
  /// The protocol in force.
  public private(set) var tableProtocol: DeltaProtocol?
  /// The metadata in force.
  public private(set) var metadata: DeltaMetadata?
  /// The data files of this version by path.
  public private(set) var files: [String: DeltaAddFile] = [:]

  init(table: String) { self.table = table }

  /// The schema the metadata states.
  public var schema: DeltaSchema? { metadata.flatMap { DeltaSchema(jsonString: $0.schemaString) } }

  /// The data files, sorted by path.
  public var sortedFiles: [DeltaAddFile] { files.values.sorted { $0.path < $1.path } }

  /// Applies commit `version`'s actions.
  mutating func apply(_ lines: [DeltaActionLine], version: Int64, key: String) throws(DeltaLogError) {
    for line in lines {
      if let value = line.protocol {
        // Reader features change what a file means (deletion vectors hide rows, column mapping
        // renames columns): a reader that ignored them would return wrong rows.
        let unsafe = (value.readerFeatures ?? []).filter { $0 != "timestampNtz" }
        guard value.minReaderVersion <= 3, unsafe.isEmpty else {
          throw .unsupported(
            table: table,
            reason: "its Delta protocol needs reader version \(value.minReaderVersion)"
              + (unsafe.isEmpty ? "" : " with \(unsafe.joined(separator: ", "))") + ", which is not read here")
        }
        tableProtocol = value
      }
      if let value = line.metaData { metadata = value }
      if let value = line.remove { files[value.path] = nil }
      if let value = line.add { files[value.path] = value }
    }
    guard tableProtocol != nil, metadata != nil else {
      throw .invalidLog(key: key, reason: "version \(version) leaves the table without a protocol or metadata")
    }
    self.version = version
  }
}
