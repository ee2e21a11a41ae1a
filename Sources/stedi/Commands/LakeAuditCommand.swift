import ArgumentParser

/// Placeholder: replaced by the compliance audit command.
struct LakeAuditCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "audit", abstract: "Audit the lake (not yet built).")
  func run() async throws { throw ExitCode(2) }
}
