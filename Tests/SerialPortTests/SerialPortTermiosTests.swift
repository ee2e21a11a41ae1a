import Foundation
import SerialPort
import Testing

@Suite("SerialPort on pseudo-terminals (termios backend)")
struct SerialPortTermiosTests {
  @Test("binary transparency, 1 MiB each way, unplug ends the stream with .disconnected")
  func transparencyLargeWritesAndDisconnect() async throws {
    try await exercisePort(backend: nil, expectedBackend: .termios)
  }

  @Test("every flow-control setting opens and passes data both ways")
  func flowControlSettingsOpen() async throws {
    for flow in FlowControl.allCases {
      let pty = try PseudoTerminal()
      defer { pty.close() }
      let port = try SerialPort(
        path: pty.slavePath, configuration: SerialConfiguration(baudRate: 115_200, flowControl: flow))
      defer { port.close() }
      let received = StreamCollector(port.received)
      // With XON/XOFF on, 0x11/0x13 are flow control, not data: send only bytes that survive it.
      let payload: [UInt8] = flow == .xonXoff ? [0x00, 0x7E, 0xFF, 0x0D, 0x0A] : [0x00, 0x11, 0x13, 0xFF]
      try port.write(payload)
      #expect(
        try await onThread { try readDevice(pty, count: payload.count, timeout: .seconds(5)) } == payload,
        "flow \(flow)")
      try pty.write(payload)
      #expect(await received.waitForBytes(payload.count) == payload, "flow \(flow)")
    }
  }

  @Test("closing the port ends the stream normally and promptly, and releases the path for reopening")
  func closeEndsStreamAndReopenWorks() async throws {
    let pty = try PseudoTerminal()
    defer { pty.close() }
    let first = try SerialPort(path: pty.slavePath)
    let received = StreamCollector(first.received)
    #expect(try await onThread { try pty.waitForHost(timeout: .seconds(5)) })

    // While open, the port is locked against a second opener.
    #expect(throws: SerialPortError.busy(path: pty.slavePath)) { try SerialPort(path: pty.slavePath) }

    // "Promptly" is timed on close() itself: it returns only after the receive thread has left and `received` has
    // been finished, so the stream's end is decided when it returns. When the collecting task then *sees* that end
    // depends on the cooperative thread pool (as wide as the CPU count, shared with every test running in parallel,
    // some of which block a pool thread for seconds), so that wait is only a guard against a stream that never ends.
    // (It was 2 s, and under load the collector and this test's own 2 ms sleep both resumed 2.5-3.2 s after close().)
    let closing = ContinuousClock.now
    first.close()
    #expect(ContinuousClock.now - closing < .milliseconds(500))
    let ending = await received.waitForEnding(timeout: .seconds(10))
    guard case .finished = ending else {
      Issue.record("expected a normal end after close(), got \(ending)")
      return
    }
    #expect(first.isClosed)
    #expect(throws: SerialPortError.closed(path: pty.slavePath)) { try first.write([1]) }
    #expect(try await waitUntilHostLeaves(pty))

    // The device survives the host closing and reopening.
    let second = try SerialPort(path: pty.slavePath)
    defer { second.close() }
    #expect(try await onThread { try pty.waitForHost(timeout: .seconds(5)) })
    let again = StreamCollector(second.received)
    try pty.write([0xC0, 0x00, 0xDE])
    #expect(await again.waitForBytes(3) == [0xC0, 0x00, 0xDE])
    try second.write([0xAD])
    #expect(try await onThread { try readDevice(pty, count: 1, timeout: .seconds(5)) } == [0xAD])
  }

  @Test("cancelling the task that iterates `received` closes the port")
  func cancellingIterationClosesPort() async throws {
    let pty = try PseudoTerminal()
    defer { pty.close() }
    let port = try SerialPort(path: pty.slavePath)
    defer { port.close() }
    #expect(try await onThread { try pty.waitForHost(timeout: .seconds(5)) })
    let listener = Task {
      var count = 0
      for try await chunk in port.received { count += chunk.count }
      return count
    }
    try pty.write([1, 2, 3])
    try await Task.sleep(for: .milliseconds(50))
    listener.cancel()
    _ = try? await listener.value
    let deadline = ContinuousClock.now + .seconds(2)
    while !port.isClosed && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    #expect(port.isClosed)
    #expect(try await waitUntilHostLeaves(pty))
  }

  @Test("after an unplug, the same path works again once a new device appears there")
  func reopenAfterDeviceReappears() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("stedi-serial-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let link = directory.appendingPathComponent("ttySTEDI").path

    for round in 0..<3 {
      let device = try PseudoTerminal()
      try? FileManager.default.removeItem(atPath: link)
      try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: device.slavePath)

      let port = try SerialPort(path: link)
      #expect(port.backend == .termios, "a symlink to a pty still selects termios")
      let received = StreamCollector(port.received)
      try device.write([UInt8(round), 0x00, 0xFF])
      #expect(await received.waitForBytes(3) == [UInt8(round), 0x00, 0xFF], "round \(round)")

      device.close()
      let ending = await received.waitForEnding(timeout: .seconds(5))
      #expect(isDisconnected(ending, path: link), "round \(round): \(ending)")
      port.close()
    }
  }

  @Test("the device side can wait for the host, and sees it leave")
  func deviceWaitsForHost() async throws {
    let pty = try PseudoTerminal()
    defer { pty.close() }
    #expect(try await waitUntilHostLeaves(pty))
    #expect(try await onThread { try !pty.waitForHost(timeout: .milliseconds(50)) })
    // A read with no host connected waits out its timeout instead of failing or spinning.
    let started = ContinuousClock.now
    #expect(try await onThread { try pty.read(timeout: .milliseconds(100)) }.isEmpty)
    #expect(ContinuousClock.now - started >= .milliseconds(90))

    // A long timeout costs nothing when the host comes, and this test's own task may wait for the
    // shared pool for many seconds while slow tests (Spark, Glue) hold its threads.
    async let connected = onThread { try pty.waitForHost(timeout: .seconds(60)) }
    try await Task.sleep(for: .milliseconds(50))
    let port = try SerialPort(path: pty.slavePath)
    #expect(try await connected)
    try port.write([0x42])
    #expect(try await onThread { try readDevice(pty, count: 1, timeout: .seconds(5)) } == [0x42])
    port.close()
    #expect(try await waitUntilHostLeaves(pty))
  }

  @Test("closing the pseudo-terminal wakes a blocked device read")
  func closeWakesDeviceRead() async throws {
    let pty = try PseudoTerminal()
    async let read = onThread { () -> String in
      do {
        _ = try pty.read(timeout: .seconds(30))
        return "returned"
      } catch {
        return "\(error)"
      }
    }
    try await Task.sleep(for: .milliseconds(50))
    let closing = ContinuousClock.now
    pty.close()
    let outcome = try await read
    #expect(outcome == SerialPortError.closed(path: pty.slavePath).description)
    #expect(ContinuousClock.now - closing < .seconds(2))
  }
}
