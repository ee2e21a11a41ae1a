import IngestAPI
import StediTestSupport

@testable import Ingestion

/// Parses `IngestFakes.stepTrainerBody` for the step-trainer endpoint with a device token.
func stepTrainerBatch(serial: String, count: Int, start: Int64 = 1_700_000_000_000) throws -> IngestBatch {
  let body = Array(IngestFakes.stepTrainerBody(serial: serial, count: count, start: start).utf8)
  return try body.withUnsafeBytes { bytes in
    try IngestBody.parse(bytes, source: .stepTrainer, token: IngestFakes.token(.device, serial))
  }
}
