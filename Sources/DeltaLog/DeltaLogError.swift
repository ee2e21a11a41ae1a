import LakeStorage

/// Why a Delta table's log could not be read or written.
public enum DeltaLogError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The storage failed.
  case storage(StorageError)
  /// Another writer committed this version first: read the table again and redo the change.
  case conflict(table: String, version: Int64)
  /// A commit file cannot be read as Delta actions.
  case invalidLog(key: String, reason: String)
  /// The table uses something this module does not read (a log that starts at a checkpoint,
  /// deletion vectors, column mapping).
  case unsupported(table: String, reason: String)

  /// One line for the command line.
  public var description: String {
    switch self {
    case .storage(let error): "\(error)"
    case .conflict(let table, let version):
      "\(table): another writer committed version \(version) of the Delta log first; run again"
    case .invalidLog(let key, let reason): "\(key): not a Delta commit: \(reason)"
    case .unsupported(let table, let reason): "\(table): \(reason)"
    }
  }
}
