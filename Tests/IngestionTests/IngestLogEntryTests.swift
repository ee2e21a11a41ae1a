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
