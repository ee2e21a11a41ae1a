import Foundation

/// The random identity of one ingest log, kept beside it, that makes its landing file names
/// unique among every ingest process writing the same lake.
enum InstanceIdentity {
  static func loadOrCreate(in directory: String) throws -> String {
    let path = "\(directory)/instance-id"
    if let text = try? String(contentsOfFile: path, encoding: .utf8) {
      let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
      if id.count == 16, id.allSatisfy(\.isHexDigit) { return id }
    }
    let id = String(format: "%016llx", UInt64.random(in: 1...UInt64.max))
    try Data((id + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    return id
  }
}
