import ArgumentParser
import Lakehouse

struct LakeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lake",
    abstract: "Work with a lake: sample data, erasure of a customer, compliance audit.",
    subcommands: [Sample.self, LakeEraseCommand.self, LakeAuditCommand.self]
  )

  struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a small deterministic sample landing zone that has every flaw the pipeline handles.")

    @Option(help: "The lake folder to write into (created if missing).")
    var lake: String

    @Option(help: "How many customers.")
    var customers = 50

    @Option(help: "Readings per customer.")
    var readings = 40

    @Option(help: "Seed: the same seed writes the same bytes.")
    var seed: UInt64 = 1

    func run() throws {
      let generator = SampleLakeGenerator(customers: customers, seed: seed, readingsPerCustomer: readings)
      try CommandFailure.reporting { try generator.write(to: lake) }
      print("wrote a sample landing zone with \(customers) customers to \(lake)")
    }
  }
}
