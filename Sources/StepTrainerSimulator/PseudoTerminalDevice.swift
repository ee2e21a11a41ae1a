import Foundation
import SerialPort
import Synchronization

/// A simulated Step Trainer on a pseudo-terminal, in real time: a host opens `path` as it would a USB serial device.
///
/// A dedicated thread runs a `SimulatedStepTrainer` whose clock is the monotonic time since `start()` in ms. It
/// waits for host bytes at most 5 ms at a time, so samples (up to 16 Hz) and time-sync answers leave within a few
/// ms of when they are due, without spinning. While no host has the port open the device sends nothing and buffers
/// its readings, as a USB-CDC device does when no program holds the port.
///
/// `unplug()` closes the pseudo-terminal (the host's reads end, as on a USB unplug) and `replug()` powers the device
/// up again on a new pseudo-terminal: the kernel gives it a new `/dev/pts/N`, so a host that needs a stable name
/// opens the `link` symlink, which is re-pointed on every replug.
public final class PseudoTerminalDevice: Sendable {
  /// The options the device was built with.
  public let options: SimulatorOptions
  /// The stable symlink, when one was asked for.
  public let link: String?

  private struct Shared {
    var terminal: PseudoTerminal?
    var slavePath: String
    var counters = SimulatorCounters()
    var bootId: UInt32 = 0
    var state: DeviceState = .created
    var restartRequested = false
    var portOpens = 0
  }

  private enum DeviceState {
    case created
    case running
    case stopping
    case stopped
  }

  private let shared: Mutex<Shared>
  private let onSample: (@Sendable ([GeneratedSample]) -> Void)?
  private let deviceLink: DeviceLink?

  /// How long the device thread waits for host bytes before it lets time pass.
  static let pollInterval = Duration.milliseconds(5)
  /// How long a write may wait for a host that is not reading before its bytes are given up.
  static let writeTimeout = Duration.milliseconds(100)

  /// Allocates the pseudo-terminal (and points `link` at it); `onSample` receives every generated sample, in order,
  /// on the device thread.
  public init(
    options: SimulatorOptions, link: String? = nil, onSample: (@Sendable ([GeneratedSample]) -> Void)? = nil
  ) throws(SimulatorDeviceError) {
    if let problem = options.problem { throw .invalidOptions(problem) }
    let terminal: PseudoTerminal
    do {
      terminal = try PseudoTerminal()
    } catch {
      throw .pseudoTerminal(error)
    }
    let deviceLink = link.map { DeviceLink(path: $0) }
    do {
      try deviceLink?.point(to: terminal.slavePath)
    } catch {
      terminal.close()
      throw error
    }
    self.options = options
    self.link = link
    self.deviceLink = deviceLink
    self.onSample = onSample
    shared = Mutex(Shared(terminal: terminal, slavePath: terminal.slavePath))
  }

  deinit {
    let (terminal, slavePath) = shared.withLock { ($0.terminal, $0.slavePath) }
    terminal?.close()
    deviceLink?.remove(ifPointingAt: slavePath)
  }

  /// The path a host opens: the link if there is one, else the pseudo-terminal.
  public var path: String { link ?? slavePath }

  /// The current pseudo-terminal's path (it changes on `replug()`).
  public var slavePath: String { shared.withLock { $0.slavePath } }

  /// What the device has done so far (updated by the device thread every few ms).
  public var counters: SimulatorCounters { shared.withLock { $0.counters } }

  /// The current boot's id, 0 before `start()`.
  public var bootId: UInt32 { shared.withLock { $0.bootId } }

  /// How many times a host opened the port.
  public var portOpens: Int { shared.withLock { $0.portOpens } }

  /// Whether the device is plugged in (not between `unplug()` and `replug()`).
  public var isPluggedIn: Bool { shared.withLock { $0.terminal != nil } }

  /// Powers the device up: boots it and starts its thread. Calling it again does nothing.
  public func start() throws(SimulatorDeviceError) {
    let starting = shared.withLock { shared in
      guard shared.state == .created else { return false }
      shared.state = .running
      return true
    }
    guard starting else { return }
    do {
      try startDetachedThread(name: "stedi-device") { [self] in run() }
    } catch {
      shared.withLock { $0.state = .stopped }
      throw .thread(error)
    }
  }

  /// Stops the device thread, closes the pseudo-terminal (the host sees a disconnect) and removes the link; returns
  /// once the thread has finished. The device cannot be started again.
  public func stop() {
    let terminal = shared.withLock { shared -> PseudoTerminal? in
      switch shared.state {
      case .created: shared.state = .stopped
      case .running: shared.state = .stopping
      case .stopping, .stopped: break
      }
      return shared.terminal
    }
    // Closing wakes the thread from its read at once.
    terminal?.close()
    while shared.withLock({ $0.state != .stopped }) { Thread.sleep(forTimeInterval: 0.002) }
    deviceLink?.remove(ifPointingAt: slavePath)
  }

  /// Reboots the device mid-stream (new boot id, sequence 0, index 0, buffer emptied), as a watchdog reset would.
  public func restart() {
    shared.withLock { $0.restartRequested = true }
  }

  /// Pulls the USB cable: the pseudo-terminal closes, the host's reads end, the device loses power.
  public func unplug() {
    let terminal = shared.withLock { shared -> PseudoTerminal? in
      defer { shared.terminal = nil }
      return shared.terminal
    }
    terminal?.close()
  }

  /// Plugs the cable back in: a new pseudo-terminal (a new `slavePath`; `link` is re-pointed) and a fresh boot.
  public func replug() throws(SimulatorDeviceError) {
    guard !isPluggedIn else { return }
    let terminal: PseudoTerminal
    do {
      terminal = try PseudoTerminal()
    } catch {
      throw .pseudoTerminal(error)
    }
    do {
      try deviceLink?.point(to: terminal.slavePath)
    } catch {
      terminal.close()
      throw error
    }
    shared.withLock { shared in
      shared.terminal = terminal
      shared.slavePath = terminal.slavePath
      shared.restartRequested = true
    }
  }

  // MARK: - The device thread

  private func run() {
    let started = ContinuousClock.now
    func elapsedMs() -> UInt64 {
      let elapsed = (ContinuousClock.now - started).components
      return UInt64(elapsed.seconds) * 1000 + UInt64(elapsed.attoseconds / 1_000_000_000_000_000)
    }
    var machine = SimulatedStepTrainer(options: options)
    machine.isHostPortOpen = false
    publish(machine)
    var wasPluggedIn = true
    while true {
      let (terminal, restart, running) = shared.withLock { shared in
        defer { shared.restartRequested = false }
        return (shared.terminal, shared.restartRequested, shared.state == .running)
      }
      guard running else { break }
      if restart {
        machine.restart(atMs: elapsedMs())
        // Published before anything of the new boot is sent, so whoever sees its HELLO also sees its boot id.
        publish(machine)
      }
      guard let terminal else {
        // Unplugged: no power, no clock that matters; replug() asks for a fresh boot.
        wasPluggedIn = false
        Thread.sleep(forTimeInterval: 0.005)
        continue
      }
      if !wasPluggedIn {
        wasPluggedIn = true
        machine.isHostPortOpen = false
      }
      noteHostPort(open: terminal.isHostConnected, on: &machine)
      send(machine.advance(toMs: elapsedMs()), on: terminal)
      let received: [UInt8]
      do {
        received = try terminal.read(maxCount: 4096, timeout: Self.pollInterval)
      } catch {
        // Closed by unplug() or stop(): the next round sees which.
        continue
      }
      if !received.isEmpty {
        // Bytes from the host prove the port is open, even if it was opened since it was last looked at: the
        // answer to a CONNECT must not be held back.
        noteHostPort(open: true, on: &machine)
        send(machine.receive(received, atMs: elapsedMs()), on: terminal)
      }
      let log = machine.takeLog()
      if !log.samples.isEmpty { onSample?(log.samples) }
      publish(machine)
    }
    let log = machine.takeLog()
    if !log.samples.isEmpty { onSample?(log.samples) }
    shared.withLock { shared in
      shared.counters = machine.counters
      shared.state = .stopped
    }
  }

  private func noteHostPort(open: Bool, on machine: inout SimulatedStepTrainer) {
    guard open != machine.isHostPortOpen else { return }
    machine.isHostPortOpen = open
    if open { shared.withLock { $0.portOpens += 1 } }
  }

  private func publish(_ machine: SimulatedStepTrainer) {
    shared.withLock { shared in
      shared.counters = machine.counters
      shared.bootId = machine.bootId
    }
  }

  private func send(_ bytes: [UInt8], on terminal: PseudoTerminal) {
    guard !bytes.isEmpty else { return }
    // A host that holds the port open without reading fills the pty's buffer; its bytes are lost, as a USB-CDC
    // device's are when the host stops polling it.
    try? terminal.write(bytes, timeout: Self.writeTimeout)
  }
}
