#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A read-mostly hash table from UTF-8 byte strings to dense ids, looked up without allocating.
///
/// Hand-written because looking up a `Dictionary<String, _>` needs a `String` per probe, and
/// building one per landing line (millions of emails and serial numbers) is allocation the hot
/// path cannot afford. Open addressing with linear probing over FNV-1a hashes.
public struct ByteStringTable: Sendable {
  /// The keys in id order.
  public private(set) var keys: [[UInt8]] = []
  private var slots: [Int32]
  private var mask: Int

  public init(expectedCount: Int = 16) {
    var capacity = 16
    while capacity < expectedCount * 2 { capacity <<= 1 }
    slots = Array(repeating: -1, count: capacity)
    mask = capacity - 1
  }

  public var count: Int { keys.count }

  @inline(__always) static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
      hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }
    return Int(truncatingIfNeeded: hash ^ (hash >> 29))
  }

  /// The id of `key`, or nil.
  @inline(__always) public func id(of key: UnsafeRawBufferPointer) -> Int32? {
    var slot = Self.hash(key) & mask
    while true {
      let id = slots[slot]
      if id < 0 { return nil }
      let candidate = keys[Int(id)]
      if candidate.count == key.count,
        candidate.withUnsafeBytes({ memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 })
      {
        return id
      }
      slot = (slot + 1) & mask
    }
  }

  public func id(of key: String) -> Int32? {
    var key = key
    return key.withUTF8 { id(of: UnsafeRawBufferPointer($0)) }
  }

  /// The id of `key`, adding it with the next id if absent.
  @discardableResult
  public mutating func insert(_ key: [UInt8]) -> Int32 {
    if let existing = key.withUnsafeBytes({ id(of: $0) }) { return existing }
    if (keys.count + 1) * 2 > slots.count { grow() }
    let newID = Int32(keys.count)
    keys.append(key)
    place(newID)
    return newID
  }

  @discardableResult
  public mutating func insert(_ key: String) -> Int32 { insert(Array(key.utf8)) }

  private mutating func place(_ id: Int32) {
    var slot = keys[Int(id)].withUnsafeBytes { Self.hash($0) } & mask
    while slots[slot] >= 0 { slot = (slot + 1) & mask }
    slots[slot] = id
  }

  private mutating func grow() {
    slots = Array(repeating: -1, count: slots.count * 2)
    mask = slots.count - 1
    for id in keys.indices { place(Int32(id)) }
  }
}
