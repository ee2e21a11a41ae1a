import Foundation
import StediTestSupport
import Testing

@testable import Lakehouse

/// Every table the pipeline publishes has exactly the columns `TableSchema` declares, in its order,
/// with the declared types: the schema is the one definition the export and the audit read.
@Suite struct TableSchemaTests {
  @Test(arguments: [PipelineProfile.strict, .udacity])
  func publishedTablesHaveTheDeclaredColumnsInOrder(profile: PipelineProfile) async throws {
    let lake = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: lake).remove() }
    try SampleLakeGenerator(customers: 60, seed: 5).write(to: lake)
    _ = try await LakeFixtures.run(lake, profile)
    let rules = ZoneRules(profile: profile)
    for table in ZoneTable.allCases {
      let schema = TableSchema.zone(table, rules: rules)
      var lines = 0
      // Parquet rows come rendered as lines (the reader refuses files whose columns differ).
      let data = try await ZoneTableReader(lake: try Lake(root: lake)).lines(schema)
      do {
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
          lines += 1
          let members = try Self.members(of: String(line))
          let declared = schema.columns.filter { column in members.contains { $0.name == column.name } }
          // Optional columns (absent consent dates, a missing name) may be left out; none other is.
          #expect(members.map(\.name) == declared.map(\.name), "\(table.rawValue): \(members.map(\.name))")
          for column in schema.columns where column.required {
            #expect(members.contains { $0.name == column.name }, "\(table.rawValue) lacks \(column.name)")
          }
          // JSON has one number type: a whole double (a distance of 218) may be written without a fraction.
          for (member, column) in zip(members, declared) {
            let fits = member.kind == column.kind || (column.kind == .double && member.kind == .int64)
            #expect(fits, "\(table.rawValue).\(column.name) is \(String(describing: member.kind))")
          }
        }
      }
      #expect(lines > 0, "\(table.rawValue) is empty: the sample lake should fill every table")
    }
  }

  @Test func curatedColumnsFollowTheProfile() {
    #expect(
      TableSchema.zone(.machineLearningCurated, rules: ZoneRules(profile: .strict)).columns.map(\.name) == [
        "sensorReadingTime", "serialNumber", "distanceFromObject", "x", "y", "z", "subjectId",
      ])
    #expect(TableSchema.zone(.machineLearningCurated, rules: ZoneRules(profile: .udacity)).columns.last?.name == "user")
    #expect(TableSchema.personIdentifyingColumns == ["customerName", "email", "phone", "birthDay", "user"])
  }

  /// The members of one NDJSON line in order, each with the kind of its value.
  private static func members(of line: String) throws -> [(name: String, kind: TableColumn.Kind?)] {
    let bytes = Array(line.utf8)
    return try bytes.withUnsafeBufferPointer { buffer in
      var scanner = try JSONObjectScanner(line: buffer)
      var members: [(name: String, kind: TableColumn.Kind?)] = []
      while let (key, value) = try scanner.nextMember() {
        let kind: TableColumn.Kind?
        switch value {
        case .string: kind = .string
        case .number(_, _, let isInteger): kind = isInteger ? .int64 : .double
        default: kind = nil
        }
        members.append((buffer.string(key), kind))
      }
      return members
    }
  }
}
