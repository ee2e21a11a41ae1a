import Foundation

// Reports (the pipeline's funnel, the compliance audit, an erasure, generate's summary) are small
// documents printed once, so they take Codable rather than the bulk renderer: JSONEncoder escapes
// every string they carry (lake paths, finding details, the ingest log's note), which
// interpolation did not. One configuration for all of them, so they read alike.

/// The one JSON encoding of a command's report: one line, sorted keys, slashes left as they are.
package enum ReportJSON {
  /// `value` as one line of JSON, without a trailing newline.
  package static func line(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    // Sorted keys: the same report always gives the same bytes. Unescaped slashes: lake paths and
    // table folders stay readable, as they were before.
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // A report holds strings, integers, booleans and rounded finite seconds: encoding cannot fail.
    return String(decoding: try! encoder.encode(value), as: UTF8.self)
  }

  /// Seconds rounded to the millisecond, the precision every report shows.
  package static func seconds(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

  /// A value written as `null` when absent (synthesized encoding leaves an absent optional out).
  package struct Nullable<Wrapped: Encodable>: Encodable {
    /// The value, or nil for `null`.
    package var value: Wrapped?

    /// `value`, or `null` when it is nil.
    package init(_ value: Wrapped?) { self.value = value }

    /// Writes the value or `null`.
    package func encode(to encoder: any Encoder) throws {
      var container = encoder.singleValueContainer()
      if let value { try container.encode(value) } else { try container.encodeNil() }
    }
  }
}
