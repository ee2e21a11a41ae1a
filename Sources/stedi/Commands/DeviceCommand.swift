import ArgumentParser

/// `stedi device ...`: serial ports and simulated Step Trainers.
struct DeviceCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "device", abstract: "Serial ports, and simulated Step Trainers on pseudo-terminals.",
    subcommands: [DeviceListCommand.self, DeviceSimulateCommand.self])
}
