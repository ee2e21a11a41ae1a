import SerialPort

/// Why a simulated device on a pseudo-terminal could not be set up.
public enum SimulatorDeviceError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The options cannot build a device.
  case invalidOptions(String)
  /// The pseudo-terminal could not be allocated.
  case pseudoTerminal(SerialPortError)
  /// The stable symlink could not be made to point at the pseudo-terminal.
  case link(path: String, reason: String)
  /// The device's thread could not be started.
  case thread(SerialPortError)

  /// A readable sentence for the command line.
  public var description: String {
    switch self {
    case .invalidOptions(let problem): "invalid device options: \(problem)"
    case .pseudoTerminal(let error): "could not create a pseudo-terminal: \(error)"
    case .link(let path, let reason): "could not link \(path) to the device: \(reason)"
    case .thread(let error): "could not start the device's thread: \(error)"
    }
  }
}
