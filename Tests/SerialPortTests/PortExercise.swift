import Foundation
import SerialPort
import Testing

/// The end-to-end checks every backend must pass on a real pseudo-terminal: byte transparency both ways, large
/// writes, and a clean `.disconnected` end when the device side goes away. Shared by the termios tests and the
/// libserialport-through-the-shim child run.
func exercisePort(backend: SerialBackendKind?, expectedBackend: SerialBackendKind) async throws {
  let pty = try PseudoTerminal()
  defer { pty.close() }
  let port = try SerialPort(
    path: pty.slavePath, configuration: SerialConfiguration(baudRate: 921_600), backend: backend)
  defer { port.close() }
  #expect(port.backend == expectedBackend)
  #expect(try await onThread { try pty.waitForHost(timeout: .seconds(5)) })
  let received = StreamCollector(port.received)

  // Host -> device: every byte value.
  try port.write(allByteValues)
  let atDevice = try await onThread { try readDevice(pty, count: allByteValues.count, timeout: .seconds(10)) }
  #expect(atDevice == allByteValues)

  // Device -> host: every byte value.
  try pty.write(allByteValues)
  let atHost = await received.waitForBytes(allByteValues.count)
  #expect(atHost == allByteValues)

  // 1 MiB each way. The pty buffers only a few KiB, so both ends must make progress at the same time: this exercises
  // partial writes and EAGAIN on both sides.
  let big = patternBytes(1 << 20)
  async let hostWrite: Void = onThread { try port.write(big, timeout: .seconds(30)) }
  let bigAtDevice = try await onThread { try readDevice(pty, count: big.count, timeout: .seconds(30)) }
  try await hostWrite
  #expect(bigAtDevice.count == big.count)
  #expect(bigAtDevice == big)

  let bigBack = patternBytes(1 << 20, seed: 42)
  async let deviceWrite: Void = onThread { try pty.write(bigBack, timeout: .seconds(30)) }
  let bigAtHost = await received.waitForBytes(allByteValues.count + bigBack.count, timeout: .seconds(30))
  try await deviceWrite
  #expect(bigAtHost.count == allByteValues.count + bigBack.count)
  #expect(Array(bigAtHost.dropFirst(allByteValues.count)) == bigBack)

  // Unplug: the stream must end with .disconnected, promptly.
  let unplugged = ContinuousClock.now
  pty.close()
  let ending = await received.waitForEnding(timeout: .seconds(5))
  #expect(isDisconnected(ending, path: pty.slavePath), "stream ended with \(ending)")
  if let endedAt = received.endedAt {
    #expect(endedAt - unplugged < .seconds(2))
  }
  #expect(throws: SerialPortError.disconnected(path: pty.slavePath)) {
    try port.write([0x01, 0x02])
  }
}
