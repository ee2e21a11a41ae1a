import Foundation
import Lakehouse
import Testing

@testable import Ingestion

@Suite struct IngestLogEntryPayloadTests {
  @Test func theRecordsPayloadIsTheEncodedEntry() {
    for (source, count) in [(LandingSource.stepTrainer, 3), (.accelerometer, 70_000), (.customer, 1 << 24 + 5)] {
      let ndjson = Array("{\"a\":1}\n".utf8)
      let payload = IngestLogEntry.recordsPayload(source: source, count: count, ndjson: ndjson)
      let encoded = IngestLogEntry.records(source: source, count: count, ndjson: ndjson).encoded
      #expect(payload.head + payload.body == encoded)
      #expect(IngestLogEntry(decoding: encoded) == .records(source: source, count: count, ndjson: ndjson))
    }
  }
}

@Suite struct BearerTokenTrimmingTests {
  @Test func trimmingAgreesWithFoundation() {
    let texts = [
      "stedi1.abc.def", " stedi1.abc.def", "stedi1.abc.def\t", "\u{A0}stedi1.abc\u{2003}", "", " ", "a", "é", "a\u{A0}",
      "\u{85}a", "a\n",
    ]
    for text in texts {
      #expect(IngestService.trimmingWhitespace(text) == text.trimmingCharacters(in: .whitespaces), "\(text)")
    }
  }
}
