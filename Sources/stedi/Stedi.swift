import ArgumentParser

@main
struct Stedi: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stedi",
    abstract: "STEDI Step Trainer platform: devices, capture, the lake's zone pipeline and its tools.",
    subcommands: [
      PipelineCommand.self, GenerateCommand.self, ImportCommand.self, LakeCommand.self, DeviceCommand.self,
      FleetCommand.self,
      CaptureCommand.self, ReplayCommand.self, ServeCommand.self, TokenCommand.self,
    ]
  )
}
