import Testing

@testable import Lakehouse

/// One top-level member as the scanner reported it, with the value resolved to text.
private struct ScannedMember: Equatable, CustomStringConvertible {
  var key: String
  var value: ScannedValue

  init(_ key: String, _ value: ScannedValue) {
    self.key = key
    self.value = value
  }

  var description: String { "\(key): \(value)" }
}

private enum ScannedValue: Equatable {
  case string(String, escaped: Bool)
  case number(String, isInteger: Bool)
  case bool(Bool)
  case null
  case object
  case array
}

/// Scans a whole line the way the record decoders do: every member until `nextMember()` returns nil.
private func scan(_ bytes: [UInt8]) -> Result<[ScannedMember], RecordError> {
  bytes.withUnsafeBufferPointer { line -> Result<[ScannedMember], RecordError> in
    do throws(RecordError) {
      var scanner = try JSONObjectScanner(line: line)
      var members: [ScannedMember] = []
      while let (key, token) = try scanner.nextMember() {
        let value: ScannedValue
        switch token {
        case .string(let string): value = .string(line.string(string), escaped: string.escaped)
        case .number(let start, let end, let isInteger):
          value = .number(
            String(decoding: UnsafeBufferPointer(rebasing: line[start..<end]), as: UTF8.self), isInteger: isInteger)
        case .bool(let flag): value = .bool(flag)
        case .null: value = .null
        case .object: value = .object
        case .array: value = .array
        }
        members.append(ScannedMember(line.string(key), value))
      }
      // Once closed, the scanner stays closed.
      if try scanner.nextMember() != nil { Issue.record("nextMember() returned a member after the object closed") }
      return .success(members)
    } catch {
      return .failure(error)
    }
  }
}

private func scan(_ text: String) -> Result<[ScannedMember], RecordError> { scan(Array(text.utf8)) }

/// The quarantine reason for a line, or nil when the scanner accepts it.
private func rejection(_ bytes: [UInt8]) -> QuarantineReason? {
  if case .failure(let error) = scan(bytes) { return error.reason }
  return nil
}

private func bytes(_ parts: Any...) -> [UInt8] {
  var result: [UInt8] = []
  for part in parts {
    switch part {
    case let text as String: result += Array(text.utf8)
    case let raw as [UInt8]: result += raw
    case let byte as UInt8: result.append(byte)
    case let integers as [Int]: result += integers.map { UInt8($0) }
    default: preconditionFailure("unsupported part \(part)")
    }
  }
  return result
}

/// The scanner accepts well-formed objects and reports each top-level member with the right token.
@Suite struct JSONObjectScannerTests {
  @Test func acceptsWhitespaceAroundEveryToken() throws {
    let result = scan(" \t{ \"a\" :\t1 ,\r\n \"b\":\"x\" , \"c\" : [ ] }\t\r ")
    #expect(
      result
        == .success([
          ScannedMember("a", .number("1", isInteger: true)), ScannedMember("b", .string("x", escaped: false)),
          ScannedMember("c", .array),
        ]))
  }

  @Test func acceptsEmptyObject() {
    #expect(scan("{}") == .success([]))
    #expect(scan(" {\t} ") == .success([]))
    #expect(scan("{}\r") == .success([]))
  }

  @Test func reportsEveryValueType() {
    let result = scan(#"{"s":"v","i":-12,"f":0.5,"e":1E+3,"t":true,"n":false,"z":null,"o":{"k":1},"a":[1,"x"]}"#)
    #expect(
      result
        == .success([
          ScannedMember("s", .string("v", escaped: false)),
          ScannedMember("i", .number("-12", isInteger: true)),
          ScannedMember("f", .number("0.5", isInteger: false)),
          ScannedMember("e", .number("1E+3", isInteger: false)),
          ScannedMember("t", .bool(true)),
          ScannedMember("n", .bool(false)),
          ScannedMember("z", .null),
          ScannedMember("o", .object),
          ScannedMember("a", .array),
        ]))
  }

  @Test func skipsNestedObjectsAndArraysAfterValidatingThem() {
    let line = #"{"meta":{"tags":["a",{"b":[[],{}]},null,-1.5e-3,true],"deep":{"x":{"y":{"z":"\u00e9"}}}},"after":7}"#
    #expect(
      scan(line) == .success([ScannedMember("meta", .object), ScannedMember("after", .number("7", isInteger: true))]))
  }

  @Test func resolvesSimpleEscapes() {
    let result = scan(#"{"s":"q\"b\\s\/n\nt\tr\rb\bf\f"}"#)
    #expect(result == .success([ScannedMember("s", .string("q\"b\\s/n\nt\tr\rb\u{8}f\u{C}", escaped: true))]))
  }

  @Test func resolvesUnicodeEscapesAndSurrogatePairs() {
    #expect(
      scan(#"{"s":"\u00e9\u4E2D\ud83d\ude00\uDBFF\uDFFF\u0000"}"#)
        == .success([ScannedMember("s", .string("é中😀\u{10FFFF}\u{0}", escaped: true))]))
    #expect(scan(#"{"\u0061b":1}"#) == .success([ScannedMember("ab", .number("1", isInteger: true))]))
  }

  @Test func acceptsRawMultiByteUTF8() {
    // 2-, 3- and 4-byte sequences, the largest scalar, and DEL (which JSON does not require escaping).
    let line = bytes(#"{"s":"é中😀"#, [0xF4, 0x8F, 0xBF, 0xBF], "\u{7F}\"}")
    #expect(scan(line) == .success([ScannedMember("s", .string("é中😀\u{10FFFF}\u{7F}", escaped: false))]))
  }

  @Test func marksOnlyPlainIntegersAsIntegers() {
    let line = #"{"a":0,"b":-0,"c":10,"d":1.0,"e":1e3,"f":-2E-2,"g":123456789012345678901234567890}"#
    guard case .success(let members) = scan(line) else {
      Issue.record("rejected \(line)")
      return
    }
    #expect(
      members.map(\.value) == [
        .number("0", isInteger: true), .number("-0", isInteger: true), .number("10", isInteger: true),
        .number("1.0", isInteger: false), .number("1e3", isInteger: false), .number("-2E-2", isInteger: false),
        .number("123456789012345678901234567890", isInteger: true),
      ])
  }

  @Test func acceptsNestingOfExactly128Levels() {
    // The object itself is level 1, so 127 arrays inside it reach the limit.
    let line = "{\"a\":" + String(repeating: "[", count: 127) + String(repeating: "]", count: 127) + "}"
    #expect(scan(line) == .success([ScannedMember("a", .array)]))
  }

  @Test func rejectsNestingDeeperThan128Levels() {
    let line = "{\"a\":" + String(repeating: "[", count: 128) + String(repeating: "]", count: 128) + "}"
    #expect(rejection(Array(line.utf8)) == .invalidJSON)
  }

  enum HostileNesting: String, CaseIterable, Sendable {
    case closedArrays, unclosedArraysInAMember, closedObjectsInAMember, unclosedObjects

    var line: String {
      let depth = 100_000
      switch self {
      case .closedArrays: return String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
      case .unclosedArraysInAMember: return "{\"a\":" + String(repeating: "[", count: depth)
      case .closedObjectsInAMember:
        return "{\"a\":" + String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth + 1)
      case .unclosedObjects: return String(repeating: "{\"a\":", count: depth)
      }
    }
  }

  @Test(arguments: HostileNesting.allCases)
  func hostileNestingIsAnErrorNotACrash(_ shape: HostileNesting) {
    let line = shape.line
    let result = scan(line)
    guard case .failure(let error) = result else {
      Issue.record("accepted a line nested 100000 levels deep")
      return
    }
    #expect(error.reason == .invalidJSON)
    #expect(error.detail.contains("nesting"))
  }
}

extension JSONObjectScannerTests {
  /// Every malformed line is rejected with the quarantine reason that names what is wrong with it.
  @Suite struct Rejections {
    struct Case: Sendable, CustomTestStringConvertible {
      let name: String
      let bytes: [UInt8]
      let reason: QuarantineReason
      var testDescription: String { "\(name) → \(reason.rawValue)" }

      init(_ name: String, _ text: String, _ reason: QuarantineReason) {
        self.init(name, bytes: Array(text.utf8), reason)
      }

      init(_ name: String, bytes: [UInt8], _ reason: QuarantineReason) {
        self.name = name
        self.bytes = bytes
        self.reason = reason
      }
    }

    static let invalidJSON: [Case] = [
      Case("trailing comma", #"{"a":1,}"#, .invalidJSON),
      Case("trailing comma in nested array", #"{"a":[1,]}"#, .invalidJSON),
      Case("trailing comma in nested object", #"{"a":{"b":1,}}"#, .invalidJSON),
      Case("leading comma", #"{,"a":1}"#, .invalidJSON),
      Case("missing comma", #"{"a":1 "b":2}"#, .invalidJSON),
      Case("missing colon", #"{"a" 1}"#, .invalidJSON),
      Case("missing colon in nested object", #"{"a":{"b" 1}}"#, .invalidJSON),
      Case("single-quoted key", #"{'a':1}"#, .invalidJSON),
      Case("single-quoted value", #"{"a":'x'}"#, .invalidJSON),
      Case("unquoted key", #"{a:1}"#, .invalidJSON),
      Case("bare word line", "hello", .invalidJSON),
      Case("bare word value", #"{"a":hello}"#, .invalidJSON),
      Case("misspelt literal", #"{"a":tru}"#, .invalidJSON),
      Case("capitalised literal", #"{"a":True}"#, .invalidJSON),
      Case("NaN", #"{"a":NaN}"#, .invalidJSON),
      Case("Infinity", #"{"a":-Infinity}"#, .invalidJSON),
      Case("garbage after closing brace", #"{"a":1} x"#, .invalidJSON),
      Case("second closing brace", #"{"a":1}}"#, .invalidJSON),
      Case("two objects", "{}{}", .invalidJSON),
      Case("comma after object", #"{"a":1},"#, .invalidJSON),
      Case("garbage after empty object", "{} 1", .invalidJSON),
      Case("leading zero", #"{"a":01}"#, .invalidJSON),
      Case("plus sign", #"{"a":+1}"#, .invalidJSON),
      Case("bare fraction", #"{"a":.5}"#, .invalidJSON),
      Case("empty fraction", #"{"a":1.}"#, .invalidJSON),
      Case("empty fraction before exponent", #"{"a":1.e5}"#, .invalidJSON),
      Case("empty exponent", #"{"a":1e}"#, .invalidJSON),
      Case("minus without digits", #"{"a":-}"#, .invalidJSON),
      Case("hex number", #"{"a":0x10}"#, .invalidJSON),
      Case("unknown escape", #"{"a":"\x41"}"#, .invalidJSON),
      Case("bad hex digit in \\u escape", #"{"a":"\u12G4"}"#, .invalidJSON),
      Case("nested member without value", #"{"a":{"b"}}"#, .invalidJSON),
      Case("array missing comma", #"{"a":[1 2]}"#, .invalidJSON),
      Case("mismatched brackets", #"{"a":[1}"#, .invalidJSON),
      Case("valid UTF-8 outside a string", #"{"a":1}é"#, .invalidJSON),
      Case("valid UTF-8 as a value", #"{"a":é}"#, .invalidJSON),
      Case("empty line", "", .invalidJSON),
      Case("whitespace-only line", " \t", .invalidJSON),
      Case("array with trailing garbage", "[1,2] x", .invalidJSON),
    ]

    static let truncated: [Case] = [
      Case("cut in a string value", #"{"customerName":"Santo"#, .truncated),
      Case("cut in a member name", #"{"custom"#, .truncated),
      Case("cut in a number", #"{"a":12"#, .truncated),
      Case("cut after a minus", #"{"a":-"#, .truncated),
      Case("cut after a decimal point", #"{"a":1."#, .truncated),
      Case("cut after an exponent mark", #"{"a":1e"#, .truncated),
      Case("cut after an exponent sign", #"{"a":1e-"#, .truncated),
      Case("cut after a key", #"{"a""#, .truncated),
      Case("cut after a key and space", #"{"a" "#, .truncated),
      Case("cut after a colon", #"{"a":"#, .truncated),
      Case("cut after a comma", #"{"a":1,"#, .truncated),
      Case("cut after a complete member", #"{"a":1"#, .truncated),
      Case("only an opening brace", "{", .truncated),
      Case("opening brace and space", "{ ", .truncated),
      Case("cut in a nested object", #"{"a":{"b":1"#, .truncated),
      Case("cut in a nested array", #"{"a":[1,2"#, .truncated),
      Case("cut in a literal", #"{"a":tr"#, .truncated),
      Case("cut in an escape", #"{"a":"x\"#, .truncated),
      Case("cut in a \\u escape", #"{"a":"\u00"#, .truncated),
      Case("cut in a nested member name", #"{"a":{"b"#, .truncated),
      Case("cut top-level array", "[1,2", .truncated),
    ]

    static let invalidUTF8: [Case] = [
      Case("lone 0xFF in a string", bytes: bytes(#"{"a":""#, UInt8(0xFF), #""}"#), .invalidUTF8),
      Case("overlong C0 80 in a string", bytes: bytes(#"{"a":""#, [0xC0, 0x80] as [UInt8], #""}"#), .invalidUTF8),
      Case(
        "overlong E0 80 80 in a string", bytes: bytes(#"{"a":""#, [0xE0, 0x80, 0x80] as [UInt8], #""}"#), .invalidUTF8),
      Case(
        "overlong F0 80 80 80 in a string", bytes: bytes(#"{"a":""#, [0xF0, 0x80, 0x80, 0x80] as [UInt8], #""}"#),
        .invalidUTF8),
      Case(
        "surrogate ED A0 80 in a string", bytes: bytes(#"{"a":""#, [0xED, 0xA0, 0x80] as [UInt8], #""}"#), .invalidUTF8),
      Case(
        "above U+10FFFF in a string", bytes: bytes(#"{"a":""#, [0xF4, 0x90, 0x80, 0x80] as [UInt8], #""}"#),
        .invalidUTF8),
      Case(
        "F5 lead byte in a string", bytes: bytes(#"{"a":""#, [0xF5, 0x80, 0x80, 0x80] as [UInt8], #""}"#), .invalidUTF8),
      Case("lone continuation byte in a string", bytes: bytes(#"{"a":"x"#, UInt8(0x80), #"y"}"#), .invalidUTF8),
      Case(
        "truncated 3-byte sequence before the quote", bytes: bytes(#"{"a":""#, [0xE2, 0x82] as [UInt8], #""}"#),
        .invalidUTF8),
      Case(
        "truncated 4-byte sequence before a letter", bytes: bytes(#"{"a":""#, [0xF0, 0x9F, 0x98] as [UInt8], #"x"}"#),
        .invalidUTF8),
      Case(
        "truncated sequence at the end of the line", bytes: bytes(#"{"a":""#, [0xE2, 0x82] as [UInt8]), .invalidUTF8),
      Case("invalid byte in a member name", bytes: bytes(#"{""#, UInt8(0xFF), #"":1}"#), .invalidUTF8),
      Case(
        "invalid byte in an ignored nested string", bytes: bytes(#"{"a":["#, "\"", UInt8(0xFE), "\"", "]}"),
        .invalidUTF8),
      Case("0xFF before the object", bytes: bytes(UInt8(0xFF), #"{"a":1}"#), .invalidUTF8),
      Case("0xFF after the object", bytes: bytes(#"{"a":1}"#, UInt8(0xFF)), .invalidUTF8),
      Case("C0 80 after the object", bytes: bytes(#"{"a":1}"#, [0xC0, 0x80] as [UInt8]), .invalidUTF8),
      Case("0xFF where a member name belongs", bytes: bytes("{", UInt8(0xFF), "}"), .invalidUTF8),
      Case("0xFF after a comma", bytes: bytes(#"{"a":1,"#, UInt8(0xFF), "}"), .invalidUTF8),
      Case("0xFF as a value", bytes: bytes(#"{"a":"#, UInt8(0xFF), "}"), .invalidUTF8),
      Case("surrogate bytes as a value", bytes: bytes(#"{"a":"#, [0xED, 0xA0, 0x80] as [UInt8], "}"), .invalidUTF8),
    ]

    static let notAnObject: [Case] = [
      Case("array", "[1,2]", .notAnObject),
      Case("empty array", " [ ] ", .notAnObject),
      Case("array of objects", #"[{"a":1}]"#, .notAnObject),
      Case("integer", "42", .notAnObject),
      Case("negative fraction with exponent", "-1.5e3", .notAnObject),
      Case("string", #""{\"a\":1}""#, .notAnObject),
      Case("null", "null", .notAnObject),
      Case("true", "true", .notAnObject),
      Case("false", " false\r", .notAnObject),
    ]

    static let controlCharacters: [Case] =
      [UInt8(0x00), 0x01, 0x09, 0x0A, 0x0D, 0x1F].map { byte in
        Case("raw 0x\(hex(byte)) in a string", bytes: bytes(#"{"a":"x"#, byte, #"y"}"#), .invalidJSON)
      } + [Case("raw tab in a member name", bytes: bytes(#"{"a"#, UInt8(0x09), #"b":1}"#), .invalidJSON)]

    static let loneSurrogates: [Case] = [
      Case("lone high surrogate", #"{"a":"\ud83d"}"#, .invalidJSON),
      Case("lone low surrogate", #"{"a":"\ude00"}"#, .invalidJSON),
      Case("high surrogate followed by a letter", #"{"a":"\ud83dx"}"#, .invalidJSON),
      Case("high surrogate followed by a non-surrogate escape", #"{"a":"\ud83d\u0041"}"#, .invalidJSON),
      Case("two high surrogates", #"{"a":"\ud83d\ud83d"}"#, .invalidJSON),
      Case("high surrogate followed by another escape", #"{"a":"\ud83d\n"}"#, .invalidJSON),
      Case("reversed pair", #"{"a":"\ude00\ud83d"}"#, .invalidJSON),
      Case("lone surrogate in a member name", #"{"\udc00":1}"#, .invalidJSON),
    ]

    @Test(arguments: invalidJSON + truncated + invalidUTF8 + notAnObject + controlCharacters + loneSurrogates)
    func rejects(_ example: Case) {
      let result = scan(example.bytes)
      guard case .failure(let error) = result else {
        Issue.record("accepted \(example.name): \(result)")
        return
      }
      #expect(error.reason == example.reason, "\(error.detail)")
      #expect(!error.detail.isEmpty)
    }

    @Test func everyPrefixOfAValidLineIsTruncated() {
      let line =
        #"{"customerName": "Santosh Clayton", "email": "Santosh.Clayton@test.com", "n": [1.5e-3, {"k": null}], "t": true, "e": "a\"b\\c\u00e9"}"#
      let full = Array(line.utf8)
      #expect(rejection(full) == nil)
      for length in 1..<full.count {
        let prefix = Array(full[0..<length])
        #expect(rejection(prefix) == .truncated, "prefix: \(String(decoding: prefix, as: UTF8.self))")
      }
    }

    /// A line cut between the two halves of an escaped surrogate pair is a cut line like any other.
    @Test(arguments: [#"{"a":"\ud83d"#, #"{"a":"\ud83d\"#])
    func lineCutInsideAnEscapedSurrogatePairIsTruncated(line: String) {
      #expect(rejection(Array(line.utf8)) == .truncated)
    }

    @Test func errorDetailNamesTheColumn() throws {
      guard case .failure(let error) = scan(#"{"a":1,}"#) else {
        Issue.record("accepted a trailing comma")
        return
      }
      #expect(error.detail.contains("column 8"), "\(error.detail)")
    }
  }
}
