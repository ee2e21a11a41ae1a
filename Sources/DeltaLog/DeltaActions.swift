/// The table's protocol action: the reader and writer versions a client needs.
public struct DeltaProtocol: Codable, Sendable, Equatable {
  /// The lowest reader protocol version that can read the table.
  public var minReaderVersion: Int
  /// The lowest writer protocol version that can write it.
  public var minWriterVersion: Int
  /// Reader table features (reader version 3), if any.
  public var readerFeatures: [String]?
  /// Writer table features (writer version 7), if any.
  public var writerFeatures: [String]?

  /// The versions this module writes: 1 and 2 (plain Parquet files, no deletion vectors, no
  /// column mapping), which every Delta reader (Athena, Glue, Spark, delta-rs) supports.
  public static let basic = DeltaProtocol(minReaderVersion: 1, minWriterVersion: 2)

  /// A protocol action.
  public init(minReaderVersion: Int, minWriterVersion: Int) {
    self.minReaderVersion = minReaderVersion
    self.minWriterVersion = minWriterVersion
  }
}

/// The table's metadata action: its id, schema and partition columns.
public struct DeltaMetadata: Codable, Sendable, Equatable {
  /// The data files' format.
  public struct Format: Codable, Sendable, Equatable {
    /// Always "parquet".
    public var provider: String
    /// Format options (none).
    public var options: [String: String]
  }

  /// A unique id for the table (a UUID).
  public var id: String
  /// The data files' format.
  public var format: Format
  /// The schema as Delta's JSON struct type, in a string.
  public var schemaString: String
  /// The columns the files are partitioned by (folders `name=value/`).
  public var partitionColumns: [String]
  /// Table properties.
  public var configuration: [String: String]
  /// When the table was created, epoch ms.
  public var createdTime: Int64?

  /// Metadata for a table of `schema` partitioned by `partitionColumns`.
  public init(id: String, schema: DeltaSchema, partitionColumns: [String], createdTime: Int64?) {
    self.id = id
    format = Format(provider: "parquet", options: [:])
    schemaString = schema.jsonString
    self.partitionColumns = partitionColumns
    configuration = [:]
    self.createdTime = createdTime
  }
}

/// A data file added to the table.
public struct DeltaAddFile: Codable, Sendable, Equatable {
  /// The file's path relative to the table's folder, percent-encoded as a URI path.
  public var path: String
  /// The file's partition values by column (its folder's `name=value` parts).
  public var partitionValues: [String: String]
  /// The file's size in bytes.
  public var size: Int64
  /// When the file was written, epoch ms.
  public var modificationTime: Int64
  /// Whether the commit changes the table's rows (false for a compaction that only rewrites).
  public var dataChange: Bool
  /// The file's statistics (`DeltaFileStatistics`) as a JSON string, which readers use to skip it.
  public var stats: String?

  /// An add action.
  public init(
    path: String, partitionValues: [String: String], size: Int64, modificationTime: Int64, dataChange: Bool = true,
    stats: DeltaFileStatistics?
  ) {
    self.path = path
    self.partitionValues = partitionValues
    self.size = size
    self.modificationTime = modificationTime
    self.dataChange = dataChange
    self.stats = stats?.jsonString
  }
}

/// A data file removed from the table (it stays on storage until it is deleted for good).
public struct DeltaRemoveFile: Codable, Sendable, Equatable {
  /// The path as its add action gave it.
  public var path: String
  /// When it was removed, epoch ms.
  public var deletionTimestamp: Int64?
  /// Whether the commit changes the table's rows.
  public var dataChange: Bool
  /// Its partition values, as added.
  public var partitionValues: [String: String]?
  /// Its size, as added.
  public var size: Int64?

  /// The remove action for `file`, at `timestamp`.
  public init(removing file: DeltaAddFile, at timestamp: Int64, dataChange: Bool = true) {
    path = file.path
    deletionTimestamp = timestamp
    self.dataChange = dataChange
    partitionValues = file.partitionValues
    size = file.size
  }
}

/// Who made a commit and why, for the table's history.
public struct DeltaCommitInfo: Codable, Sendable, Equatable {
  /// When, epoch ms.
  public var timestamp: Int64
  /// What kind of change ("WRITE", "DELETE", ...).
  public var operation: String
  /// The writer.
  public var engineInfo: String?

  /// A commit's description.
  public init(timestamp: Int64, operation: String, engineInfo: String?) {
    self.timestamp = timestamp
    self.operation = operation
    self.engineInfo = engineInfo
  }
}

/// One line of a commit file: exactly one action (other kinds, such as `txn`, are read and ignored).
struct DeltaActionLine: Codable {
  var `protocol`: DeltaProtocol?
  var metaData: DeltaMetadata?
  var add: DeltaAddFile?
  var remove: DeltaRemoveFile?
  var commitInfo: DeltaCommitInfo?
}
