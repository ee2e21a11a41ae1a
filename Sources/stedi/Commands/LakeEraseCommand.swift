import ArgumentParser

/// Placeholder: replaced by the erasure command.
struct LakeEraseCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "erase", abstract: "Erase a customer (not yet built).")
  func run() async throws { throw ExitCode(2) }
}
