// The Thrift compact protocol, only as far as Parquet's footer and page headers need it.
// Field ids and type codes follow parquet-format's parquet.thrift; unknown fields are skipped, so
// files from newer writers (size statistics, page indexes, crc) still read.

/// Compact-protocol type codes.
enum ThriftType: UInt8 {
  case stop = 0
  case boolTrue = 1
  case boolFalse = 2
  case byte = 3
  case i16 = 4
  case i32 = 5
  case i64 = 6
  case double = 7
  case binary = 8
  case list = 9
  case set = 10
  case map = 11
  case `struct` = 12
}

/// Writes compact-protocol structs into a byte buffer.
struct ThriftWriter {
  var bytes: [UInt8] = []
  // The last field id of each open struct: field headers carry the delta from it.
  private var lastField: [Int16] = [0]

  mutating func varint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  private mutating func zigzag(_ value: Int64) {
    varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
  }

  private mutating func fieldHeader(_ id: Int16, _ type: ThriftType) {
    let delta = Int(id) - Int(lastField[lastField.count - 1])
    if delta > 0 && delta <= 15 {
      bytes.append(UInt8(delta << 4) | type.rawValue)
    } else {
      bytes.append(type.rawValue)
      zigzag(Int64(id))
    }
    lastField[lastField.count - 1] = id
  }

  mutating func i32(_ id: Int16, _ value: Int32) {
    fieldHeader(id, .i32)
    zigzag(Int64(value))
  }

  mutating func i64(_ id: Int16, _ value: Int64) {
    fieldHeader(id, .i64)
    zigzag(value)
  }

  mutating func bool(_ id: Int16, _ value: Bool) {
    fieldHeader(id, value ? .boolTrue : .boolFalse)
  }

  mutating func binary(_ id: Int16, _ value: some Collection<UInt8>) {
    fieldHeader(id, .binary)
    varint(UInt64(value.count))
    bytes.append(contentsOf: value)
  }

  mutating func string(_ id: Int16, _ value: String) {
    binary(id, Array(value.utf8))
  }

  /// Opens a struct-typed field; close it with `endStruct()`.
  mutating func beginStruct(_ id: Int16) {
    fieldHeader(id, .struct)
    lastField.append(0)
  }

  /// Opens a struct that is a list element (no field header).
  mutating func beginElement() {
    lastField.append(0)
  }

  mutating func endStruct() {
    bytes.append(ThriftType.stop.rawValue)
    lastField.removeLast()
  }

  /// A list field's header; the caller then writes `count` elements.
  mutating func listHeader(_ id: Int16, _ elementType: ThriftType, count: Int) {
    fieldHeader(id, .list)
    if count < 15 {
      bytes.append(UInt8(count << 4) | elementType.rawValue)
    } else {
      bytes.append(0xF0 | elementType.rawValue)
      varint(UInt64(count))
    }
  }

  /// An i32 list element (enums are i32).
  mutating func i32Element(_ value: Int32) {
    zigzag(Int64(value))
  }

  mutating func binaryElement(_ value: some Collection<UInt8>) {
    varint(UInt64(value.count))
    bytes.append(contentsOf: value)
  }
}

/// Reads compact-protocol structs from a byte range, every read bounds-checked.
struct ThriftReader {
  let bytes: [UInt8]
  var position: Int
  let end: Int
  // Nesting guard: a hostile footer must not recurse the stack away.
  private var depth = 0
  private var lastField: [Int16] = [0]

  init(_ bytes: [UInt8], from start: Int, to end: Int) {
    self.bytes = bytes
    self.position = start
    self.end = end
  }

  func error(_ what: String) -> ParquetError {
    .malformed("\(what) (Thrift)", offset: position)
  }

  mutating func byte() throws(ParquetError) -> UInt8 {
    guard position < end else { throw .truncated("Thrift struct runs past its bytes", offset: position) }
    let b = bytes[position]
    position += 1
    return b
  }

  mutating func varint() throws(ParquetError) -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      let b = try byte()
      guard shift < 64 else { throw error("varint longer than 10 bytes") }
      result |= UInt64(b & 0x7F) << shift
      if b & 0x80 == 0 { return result }
      shift += 7
    }
  }

  private mutating func zigzag() throws(ParquetError) -> Int64 {
    let v = try varint()
    return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
  }

  /// The next field's id and type, or nil at the struct's end.
  mutating func fieldHeader() throws(ParquetError) -> (id: Int16, type: ThriftType)? {
    let b = try byte()
    guard let type = ThriftType(rawValue: b & 0x0F) else { throw error("unknown field type \(b & 0x0F)") }
    if type == .stop { return nil }
    let delta = b >> 4
    let id: Int16
    if delta != 0 {
      let sum = Int(lastField[lastField.count - 1]) + Int(delta)
      guard sum <= Int(Int16.max) else { throw error("field id out of range") }
      id = Int16(sum)
    } else {
      let raw = try zigzag()
      guard let value = Int16(exactly: raw) else { throw error("field id out of range") }
      id = value
    }
    lastField[lastField.count - 1] = id
    return (id, type)
  }

  mutating func enterStruct() throws(ParquetError) {
    depth += 1
    guard depth <= 32 else { throw error("structs nested too deep") }
    lastField.append(0)
  }

  mutating func leaveStruct() {
    depth -= 1
    lastField.removeLast()
  }

  mutating func i64(_ type: ThriftType) throws(ParquetError) -> Int64 {
    guard type == .i64 || type == .i32 || type == .i16 || type == .byte else {
      throw error("integer field has type \(type)")
    }
    if type == .byte { return Int64(Int8(bitPattern: try byte())) }
    return try zigzag()
  }

  mutating func i32(_ type: ThriftType) throws(ParquetError) -> Int32 {
    let v = try i64(type)
    guard let r = Int32(exactly: v) else { throw error("i32 out of range") }
    return r
  }

  mutating func bool(_ type: ThriftType) throws(ParquetError) -> Bool {
    switch type {
    case .boolTrue: return true
    case .boolFalse: return false
    default: throw error("bool field has type \(type)")
    }
  }

  mutating func binary(_ type: ThriftType) throws(ParquetError) -> [UInt8] {
    guard type == .binary else { throw error("binary field has type \(type)") }
    let length = try varint()
    guard length <= UInt64(end - position) else {
      throw .truncated("Thrift binary runs past its bytes", offset: position)
    }
    let n = Int(length)
    defer { position += n }
    return Array(bytes[position..<(position + n)])
  }

  mutating func string(_ type: ThriftType) throws(ParquetError) -> String {
    String(decoding: try binary(type), as: UTF8.self)
  }

  /// A list's element type and count; the count is checked against the bytes left (each element takes one at least).
  mutating func listHeader(_ type: ThriftType) throws(ParquetError) -> (ThriftType, Int) {
    guard type == .list || type == .set else { throw error("list field has type \(type)") }
    let b = try byte()
    guard let elementType = ThriftType(rawValue: b & 0x0F), elementType != .stop else {
      throw error("unknown list element type \(b & 0x0F)")
    }
    var count = UInt64(b >> 4)
    if count == 15 { count = try varint() }
    guard count <= UInt64(end - position) else { throw error("list of \(count) elements in \(end - position) bytes") }
    return (elementType, Int(count))
  }

  /// A list element of the given type that is an integer.
  mutating func i32Element(_ type: ThriftType) throws(ParquetError) -> Int32 {
    try i32(type)
  }

  /// Skips a value of any type (fields this reader does not use).
  mutating func skip(_ type: ThriftType) throws(ParquetError) {
    switch type {
    case .stop: throw error("unexpected stop")
    case .boolTrue, .boolFalse: return
    case .byte: _ = try byte()
    case .i16, .i32, .i64: _ = try varint()
    case .double:
      guard end - position >= 8 else { throw .truncated("Thrift double runs past its bytes", offset: position) }
      position += 8
    case .binary: _ = try binary(.binary)
    case .list, .set:
      let (elementType, count) = try listHeader(type)
      for _ in 0..<count {
        // Bools inside containers take a whole byte.
        if elementType == .boolTrue || elementType == .boolFalse { _ = try byte() } else { try skip(elementType) }
      }
    case .map:
      let count = try varint()
      guard count <= UInt64(end - position) else { throw error("map of \(count) entries") }
      if count == 0 { return }
      let kinds = try byte()
      guard let k = ThriftType(rawValue: kinds >> 4), let v = ThriftType(rawValue: kinds & 0x0F), k != .stop, v != .stop
      else { throw error("bad map types") }
      for _ in 0..<count {
        try skipElement(k)
        try skipElement(v)
      }
    case .struct:
      try enterStruct()
      while let (_, t) = try fieldHeader() { try skip(t) }
      leaveStruct()
    }
  }

  private mutating func skipElement(_ type: ThriftType) throws(ParquetError) {
    if type == .boolTrue || type == .boolFalse { _ = try byte() } else { try skip(type) }
  }

  /// Reads a struct: `field` is called for each field and must consume its value (or call `skip`).
  mutating func readStruct(_ field: (inout ThriftReader, Int16, ThriftType) throws(ParquetError) -> Void)
    throws(ParquetError)
  {
    try enterStruct()
    while let (id, type) = try fieldHeader() {
      try field(&self, id, type)
    }
    leaveStruct()
  }

  /// Reads a struct-typed field or list element, checking the type first.
  mutating func readStruct(
    _ type: ThriftType,
    _ field: (inout ThriftReader, Int16, ThriftType) throws(ParquetError) -> Void
  ) throws(ParquetError) {
    guard type == .struct else { throw error("struct field has type \(type)") }
    try readStruct(field)
  }
}
