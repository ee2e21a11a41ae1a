import Crypto
import Foundation

/// A local working copy of a lake kept in object storage, so programs that read and write files
/// (with pread/rename, on all cores) run on lakes in object storage unchanged.
///
/// Which keys are the lake's input and which files belong to this machine only is the caller's to
/// say (`Rules`). `pull` makes the copy equal to the lake: input files are immutable once written,
/// so a file already present with the same size is kept (a second run downloads only new input);
/// everything else is downloaded every time, and local files the lake no longer holds are removed
/// (data erased from the lake must not come back from a cache). `push` uploads every file the run
/// created or changed, each one PUT (atomic per object), and deletes the objects the run removed.
/// Input objects are never written or deleted by a push.
public struct LakeMirror: Sendable {
  /// Which keys the mirror treats apart from the rest.
  public struct Rules: Sendable {
    /// Whether a key is the lake's input: written by others, never by the run, and never changed
    /// once written, so a local file of the same size is kept and a push leaves it alone.
    public var isInput: @Sendable (String) -> Bool
    /// Whether a key belongs to this machine only (a lock, a local log): never pushed, and its
    /// objects in the lake are not pulled. Hidden files (a part starting with `.`) always are.
    public var isLocalOnly: @Sendable (String) -> Bool
    /// Whether a key publishes others (a table's transaction log): a push uploads such keys after
    /// every other upload, in key order, and deletes nothing until they are up, so a reader
    /// following the log never finds a file it names missing.
    public var isCommit: @Sendable (String) -> Bool

    /// Rules from the predicates.
    public init(
      isInput: @escaping @Sendable (String) -> Bool, isLocalOnly: @escaping @Sendable (String) -> Bool,
      isCommit: @escaping @Sendable (String) -> Bool = { _ in false }
    ) {
      self.isInput = isInput
      self.isLocalOnly = isLocalOnly
      self.isCommit = isCommit
    }
  }

  /// The lake in object storage.
  public let storage: any LakeStorage
  /// The local folder holding the copy.
  public let localRoot: String
  /// Which keys are input and which are local only.
  public let rules: Rules
  /// Downloads and uploads in flight at once.
  public var concurrency = 16

  /// A mirror of `storage` in `localRoot` (created if missing), treating keys as `rules` say.
  public init(storage: any LakeStorage, localRoot: String, rules: Rules) {
    self.storage = storage
    self.localRoot = localRoot.hasSuffix("/") ? String(localRoot.dropLast()) : localRoot
    self.rules = rules
  }

  /// What a pull found, for the push that follows the run.
  public struct Snapshot: Sendable {
    /// Every object of the lake with its content digest (nil for input files, never pushed).
    var objects: [String: SHA256Digest?]
    /// Objects downloaded by this pull.
    public var downloaded: Int
    /// Bytes downloaded by this pull.
    public var downloadedBytes: Int
    /// Input objects already present locally.
    public var reused: Int
  }

  /// What a push changed.
  public struct PushSummary: Sendable {
    public var uploaded: Int
    public var uploadedBytes: Int
    public var deleted: Int
  }

  /// Makes the local copy equal to the lake.
  public func pull() async throws -> Snapshot {
    let objects = try await storage.list(prefix: "")
    var local = Set(try localFiles())
    var snapshot = Snapshot(objects: [:], downloaded: 0, downloadedBytes: 0, reused: 0)
    var toDownload: [StoredObject] = []
    for object in objects where !isLocalOnly(object.key) {
      local.remove(object.key)
      if rules.isInput(object.key), fileSize(object.key) == object.size {
        snapshot.objects[object.key] = .some(nil)
        snapshot.reused += 1
      } else {
        toDownload.append(object)
      }
    }
    for stale in local { try? FileManager.default.removeItem(atPath: path(stale)) }
    let isInput = rules.isInput
    let results = try await forEachBounded(toDownload, limit: concurrency) { object in
      let bytes = try await storage.get(object.key)
      try write(bytes, to: object.key)
      return (object.key, isInput(object.key) ? nil : SHA256.hash(data: bytes), bytes.count)
    }
    for (key, digest, size) in results {
      snapshot.objects[key] = .some(digest)
      snapshot.downloaded += 1
      snapshot.downloadedBytes += size
    }
    return snapshot
  }

  /// Uploads what the run changed since `snapshot` and deletes what it removed.
  public func push(since snapshot: Snapshot) async throws -> PushSummary {
    var changed: [(String, [UInt8])] = []
    let files = try localFiles().filter { !rules.isInput($0) && !isLocalOnly($0) }
    for key in files {
      guard let data = FileManager.default.contents(atPath: path(key)) else { continue }
      if let known = snapshot.objects[key], let digest = known, digest == SHA256.hash(data: data) { continue }
      changed.append((key, Array(data)))
    }
    let isCommit = rules.isCommit
    var uploaded = try await forEachBounded(changed.filter { !isCommit($0.0) }, limit: concurrency) { (key, bytes) in
      try await storage.put(key, bytes: bytes)
      return bytes.count
    }
    for (key, bytes) in changed.filter({ isCommit($0.0) }).sorted(by: { $0.0 < $1.0 }) {
      try await storage.put(key, bytes: bytes)
      uploaded.append(bytes.count)
    }
    let present = Set(files)
    let removed = snapshot.objects.keys.filter { !rules.isInput($0) && !present.contains($0) }
    _ = try await forEachBounded(removed, limit: concurrency) { key in try await storage.delete(key) }
    return PushSummary(uploaded: uploaded.count, uploadedBytes: uploaded.reduce(0, +), deleted: removed.count)
  }

  /// Files that belong to this machine only: hidden temporary files, and what the rules say.
  private func isLocalOnly(_ key: String) -> Bool {
    key.split(separator: "/").contains { $0.hasPrefix(".") } || rules.isLocalOnly(key)
  }

  private func path(_ key: String) -> String { "\(localRoot)/\(key)" }

  private func fileSize(_ key: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path(key))[.size] as? Int) ?? nil
  }

  private func write(_ bytes: [UInt8], to key: String) throws {
    let target = URL(fileURLWithPath: path(key))
    try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: target, options: .atomic)
  }

  /// Every regular file under the root, as lake-relative keys.
  private func localFiles() throws -> [String] {
    try FileManager.default.createDirectory(atPath: localRoot, withIntermediateDirectories: true)
    guard let enumerator = FileManager.default.enumerator(atPath: localRoot) else { return [] }
    var keys: [String] = []
    while let relative = enumerator.nextObject() as? String {
      if enumerator.fileAttributes?[.type] as? FileAttributeType == .typeRegular { keys.append(relative) }
    }
    return keys
  }
}
