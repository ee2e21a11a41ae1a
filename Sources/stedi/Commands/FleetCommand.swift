import ArgumentParser
import Fleet
import Foundation
import IngestAPI
import LakeStorage
import Lakehouse

/// `stedi fleet`: many simulated Step Trainers and phones against an ingest service.
struct FleetCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fleet",
    abstract: "Load-test an ingest service with simulated Step Trainers and phones.",
    subcommands: [Run.self]
  )

  struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a scenario (simulators/scenarios/*.yaml) against a `stedi serve` and report.",
      discussion: """
        Tokens are minted from the lake's token key (--lake, the lake the service writes; or \
        $STEDI_TOKEN_KEY). The customers are registered first, then every device sends readings \
        from the motion model with its own token over shared keep-alive connections. With --lake \
        the run ends with a reconciliation: readings acknowledged = landed (waiting up to \
        --reconcile-timeout for the service to land its batches), refused ones accounted for.
        """)

    @Option(help: "The scenario file (YAML).")
    var scenario: String

    @Option(help: "The ingest service's base URL, e.g. http://127.0.0.1:8080.")
    var target: String

    @Option(help: "The lake the service writes (folder or s3://bucket/prefix): token key and reconciliation.")
    var lake: String?

    @OptionGroup var s3: S3ConnectionOptions

    @Option(help: "Run only shard i of n (1-based), e.g. 2/3: several generators together drive one target.")
    var shard: String?

    @Option(help: "Tags this run's customers and devices (give every shard the same one). Default: random.")
    var runId: String?

    @OptionGroup var reportFiles: FleetReportFiles

    @Option(help: "Seconds to wait for acknowledged readings to land before reconciling.")
    var reconcileTimeout: Double = 120

    @Option(help: "Keep-alive connections the fleet shares.")
    var connections = 64

    @Flag(help: "No live progress line on stderr.")
    var quiet = false

    func validate() throws {
      if let shard, FleetPlan.shard(parsing: shard) == nil {
        throw ValidationError("--shard must be i/n with 1 <= i <= n")
      }
      if let runId, !FleetPlan.isValid(runID: runId) {
        throw ValidationError("--run-id must be 8 lower-case hex digits")
      }
    }

    func run() async throws {
      let loaded: Scenario
      do {
        loaded = try Scenario.load(file: scenario)
      } catch {
        throw CommandFailure.report("\(error)")
      }
      var storage: (any LakeStorage)?
      if let lake {
        storage = lake.hasPrefix("s3://") ? try s3.storage(url: lake) : FileSystemStorage(root: lake)
      }
      let key: TokenKey
      if let storage {
        key = try await CommandFailure.reporting { try await TokenKey.load(storage: storage) }
      } else if let given = ProcessInfo.processInfo.environment["STEDI_TOKEN_KEY"], !given.isEmpty {
        key = try TokenKey(bytes: Array(given.utf8))
      } else {
        throw CommandFailure.report("give --lake (its token key) or set STEDI_TOKEN_KEY")
      }
      let runID = runId ?? String(format: "%08x", UInt32.random(in: 0...UInt32.max))
      var plan = FleetPlan(scenario: loaded, runID: runID)
      if let shard, let (index, count) = FleetPlan.shard(parsing: shard) { plan = plan.shard(index, of: count) }
      let fleetTarget = FleetTarget(baseURL: target, key: key, connections: connections)
      let recorder = FleetRecorder()
      let epochStart = Int64(Date().timeIntervalSince1970 * 1000)
      do {
        try await FleetRunner(plan: plan, target: fleetTarget, recorder: recorder).registerCustomers(
          epochStart: epochStart)
      } catch {
        await fleetTarget.shutdown()
        throw CommandFailure.report("cannot register the customers: \(error)")
      }
      let serialFleet: SerialFleetDevices
      do {
        serialFleet = try SerialFleetDevices.start(plan: plan, target: target, key: key)
      } catch {
        await fleetTarget.shutdown()
        throw CommandFailure.report("\(error)")
      }
      let progress =
        quiet
        ? nil
        : Task {
          while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            FileHandle.standardError.write(Data("\(recorder.progress().line)\n".utf8))
          }
        }
      var totals = await FleetRunner(plan: plan, target: fleetTarget, recorder: recorder).run(epochStart: epochStart)
      let serial = await serialFleet.finish()
      totals[.stepTrainer, default: DeviceTotals()].acknowledged += serial.acknowledged
      // The load is over: waiting for the lake must not count in the run's duration or throughput.
      recorder.finish()
      progress?.cancel()
      await fleetTarget.shutdown()

      var reconciliation: FleetReconciliation?
      if let storage {
        let acknowledged = totals.values.reduce(0) { $0 + $1.acknowledged }
        let landed = try await CommandFailure.reporting {
          try await LandedReadings(storage: storage, runID: runID).waitFor(
            acknowledged, timeout: .milliseconds(Int64(reconcileTimeout * 1000)))
        }
        reconciliation = FleetReconciliation(totals: totals, landed: landed.values.reduce(0, +))
      }
      let report = recorder.report(
        scenario: loaded.name, target: target, shard: shard, reconciliation: reconciliation)
      print(report.text(), terminator: "")
      if serialFleet.count > 0 {
        print(
          "  serial path     \(serialFleet.count) Step Trainers through stedi capture --ingest:"
            + " \(serial.acknowledged) readings acknowledged")
        for failure in serial.failures { print("  serial failure  \(failure)") }
      }
      try reportFiles.write(report)
      if let reconciliation, !reconciliation.balanced { throw ExitCode(3) }
      if !serial.failures.isEmpty { throw ExitCode(3) }
    }
  }
}
