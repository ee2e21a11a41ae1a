import ArgumentParser

@main
struct Stedi: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stedi",
    abstract: "STEDI Step Trainer platform: the lake's zone pipeline and its tools.",
    subcommands: [PipelineCommand.self, GenerateCommand.self, ImportCommand.self, LakeCommand.self]
  )
}
