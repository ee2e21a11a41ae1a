import DatasetLanding
import Foundation
import Lakehouse
import Motion
import StediTestSupport
import Testing

/// A generated dataset lands in a folder lake in process: deterministic, counted by its manifest,
/// in the public data's format, with re-delivered batches as exact copies.
@Suite struct GenerationRunTests {
  private static func generate(into lake: TemporaryLake, flaws: Set<DatasetFlaw>, seed: UInt64 = 7) throws
    -> GenerationManifest
  {
    var generator = DatasetGenerator(customers: 120, seed: seed, flaws: flaws)
    generator.sessionSeconds = 5...10
    let run = GenerationRun(generator: generator, lake: lake.root)
    try run.run()
    return run.manifest
  }

  /// Every landing file of `source`, byte for byte (malformed lines need not be UTF-8).
  private static func bytes(_ lake: TemporaryLake, _ source: LandingSource) -> [Data?] {
    lake.landingFiles(source).map { FileManager.default.contents(atPath: "\(lake.root)/\($0)") }
  }

  @Test func theSameSeedWritesTheSameBytes() throws {
    let first = try TemporaryLake("generation-first")
    let second = try TemporaryLake("generation-second")
    defer {
      first.remove()
      second.remove()
    }
    let manifest = try Self.generate(into: first, flaws: Set(DatasetFlaw.allCases))
    #expect(try Self.generate(into: second, flaws: Set(DatasetFlaw.allCases)) == manifest)
    for source in LandingSource.allCases {
      #expect(first.landingFiles(source) == second.landingFiles(source))
      #expect(Self.bytes(first, source) == Self.bytes(second, source), "\(source)")
    }
    let other = try TemporaryLake("generation-other")
    defer { other.remove() }
    _ = try Self.generate(into: other, flaws: Set(DatasetFlaw.allCases), seed: 8)
    #expect(Self.bytes(other, .accelerometer) != Self.bytes(first, .accelerometer))
  }

  @Test func withoutFlawsTheManifestCountsEveryLandedLine() throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let manifest = try Self.generate(into: lake, flaws: [])
    let counts: [(LandingSource, DatasetTable)] = [
      (.customer, .customer), (.accelerometer, .accelerometer), (.stepTrainer, .stepTrainer),
    ]
    for (source, table) in counts {
      let rows = try #require(manifest.rows[table.rawValue])
      #expect(rows > 0 && lake.landingLines(source).count == rows, "\(table.rawValue)")
    }
    // Customer files separate members as Python's json.dumps does, like the public data.
    #expect(lake.landingLines(.customer).allSatisfy { $0.contains("\", \"") })
    #expect(lake.landingLines(.accelerometer).allSatisfy { !$0.contains(", \"") })
    #expect(FileManager.default.fileExists(atPath: "\(lake.root)/_stedi/generate-manifest.json"))
  }

  @Test func reDeliveredBatchesAreExactCopiesUnderNewNames() throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    let manifest = try Self.generate(into: lake, flaws: [.redeliveredBatches])
    #expect(manifest.redeliveredFiles > 0)
    var copies = 0
    for source in [LandingSource.accelerometer, .stepTrainer] {
      let files = Self.bytes(lake, source)
      copies += files.count - Set(files).count
    }
    #expect(copies == manifest.redeliveredFiles)
  }
}

/// `stedi generate --json`: every table counted and the lake's path intact, whatever it holds.
@Suite struct GenerationSummaryJSONTests {
  @Test func theSummaryDecodesWithAnAwkwardLakePath() throws {
    let lake = "/tmp/a \"quoted\" back\\slash\nnew line\ttab / é"
    let run = GenerationRun(generator: DatasetGenerator(customers: 1, seed: 1, flaws: []), lake: lake)
    let json = run.json(seconds: 2.0004)
    #expect(!json.contains("\n"), "one line")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
    #expect(object["lake"] as? String == lake)
    #expect(
      object["rows"] as? [String: Int] == ["customer": 0, "accelerometer": 0, "step_trainer": 0, "step_events": 0])
    #expect(object["malformed"] as? Int == 0 && object["readings"] as? Int == 0)
    #expect((object["seconds"] as? NSNumber)?.doubleValue == 2, "seconds rounded to the millisecond, as a number")
  }
}
