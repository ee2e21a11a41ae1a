import Testing

@testable import Lakehouse

/// The byte searches that screen lake files for a customer's identifiers, against a plain reference.
@Suite struct ByteSearchTests {
  static func reference(_ haystack: [UInt8], _ needle: [UInt8], ignoringCase: Bool) -> Bool {
    let fold = { (byte: UInt8) in ignoringCase && byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte }
    let folded = haystack.map(fold)
    guard needle.count <= folded.count else { return needle.isEmpty }
    return (0...(folded.count - needle.count)).contains { Array(folded[$0..<$0 + needle.count]) == needle }
  }

  @Test func agreesWithAPlainSearchOnRandomText() {
    var random = SystemRandomNumberGenerator()
    let alphabet = Array("aAbB@.-1\"".utf8)
    for _ in 0..<3_000 {
      let haystack = (0..<Int.random(in: 0...40, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
      let needle = (0..<Int.random(in: 1...5, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
      let lower = needle.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
      haystack.withUnsafeBufferPointer { buffer in
        #expect(ByteSearch.contains(buffer, needle) == Self.reference(haystack, needle, ignoringCase: false))
        #expect(
          ByteSearch.containsIgnoringCase(buffer, lower) == Self.reference(haystack, lower, ignoringCase: true),
          "\(String(decoding: haystack, as: UTF8.self)) / \(String(decoding: lower, as: UTF8.self))")
      }
    }
  }

  @Test func findsAnEmailWhateverItsCase() {
    let line = Array(#"{"user":"Customer.10@Sample.TEST","timestamp":1}"#.utf8)
    line.withUnsafeBufferPointer { buffer in
      #expect(ByteSearch.containsIgnoringCase(buffer, Array("customer.10@sample.test".utf8)))
      #expect(!ByteSearch.containsIgnoringCase(buffer, Array("customer.1@sample.test".utf8)))
      #expect(!ByteSearch.contains(buffer, Array("customer.10@sample.test".utf8)))
    }
  }
}
