#if os(Linux)
  import Foundation
  import SerialPort
  import Testing

  // Runs the libserialport backend of SerialPort against a real pseudo-terminal.
  //
  // libserialport refuses ptys (no /sys/class/tty entry for /dev/pts/N, and TIOCMGET fails on them), so this uses the
  // LD_PRELOAD shim in Tests/Shims/libserialport_pty_shim.c, which answers exactly those two checks. LD_PRELOAD only
  // takes effect at process start, hence two halves:
  //
  // - `libserialportBackendThroughShim` (the parent, runs in every `swift test`) compiles the shim with `cc`, then
  //   re-runs this very test binary (`/proc/self/exe`, the swift-testing runner) with LD_PRELOAD=shim.so,
  //   STEDI_SERIAL_BACKEND=libserialport, `--filter` naming only the child test, and a report file path. It requires
  //   exit status 0 and the report the child wrote, so a child that was filtered away or skipped counts as a failure.
  // - `childRun` (enabled only when STEDI_SERIAL_SHIM_CHILD=1) checks the shim is loaded, then runs the same
  //   `exercisePort` checks as the termios tests (every byte value both ways, 1 MiB each way, unplug ends the stream
  //   with `.disconnected`) through the production SerialPort code with the libserialport backend, chosen by the
  //   environment variable, and writes the report.
  @Suite("SerialPort libserialport backend on a pseudo-terminal (LD_PRELOAD shim, subprocess)")
  struct LibSerialPortShimTests {
    static let reportVariable = "STEDI_SERIAL_SHIM_REPORT"

    @Test(
      "libserialport backend: transparency, 1 MiB each way, unplug -> .disconnected (child process with the shim)",
      .enabled(if: !isShimChildProcess))
    func libserialportBackendThroughShim() async throws {
      let work = FileManager.default.temporaryDirectory.appendingPathComponent("stedi-shim-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(at: work) }

      let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Shims/libserialport_pty_shim.c")
      let shim = work.appendingPathComponent("libserialport_pty_shim.so")
      // Both runs wait on their own thread: blocking a cooperative-pool thread for seconds (there are only as many as
      // CPUs) stalls every other test of the process, whose deadlines then measure that stall.
      let compile = try await onThread {
        try Self.run(
          "/usr/bin/env", ["cc", "-shared", "-fPIC", "-O2", "-Wall", "-o", shim.path, source.path, "-ldl"],
          environment: ProcessInfo.processInfo.environment, timeout: .seconds(60))
      }
      #expect(!compile.timedOut, "cc did not finish within 60 s")
      try #require(compile.status == 0, "compiling the shim failed:\n\(compile.output)")

      let report = work.appendingPathComponent("report.txt")
      var environment = ProcessInfo.processInfo.environment
      environment["LD_PRELOAD"] = shim.path
      environment[shimChildVariable] = "1"
      environment[Self.reportVariable] = report.path
      environment[SerialBackendKind.environmentVariable] = "libserialport"
      let child = try await onThread { [environment] in
        try Self.run(
          "/proc/self/exe", ["--testing-library", "swift-testing", "--filter", "LibSerialPortShimTests/childRun"],
          environment: environment, timeout: .seconds(120))
      }
      #expect(!child.timedOut, "the child test run did not finish within 120 s")
      #expect(child.status == 0, "child test run failed:\n\(child.output)")
      let written = (try? String(contentsOf: report, encoding: .utf8)) ?? "(no report: the child test did not run)"
      #expect(written == "shim=loaded backend=libserialport checks=done\n", "child output:\n\(child.output)")
    }

    @Test("child half of libserialportBackendThroughShim", .enabled(if: isShimChildProcess))
    func childRun() async throws {
      // The shim exports this symbol (nil handle = RTLD_DEFAULT on glibc); without it, libserialport would refuse the pty and the test would only prove that.
      try #require(dlsym(nil, "stedi_libserialport_pty_shim_loaded") != nil)
      try await exercisePort(backend: nil, expectedBackend: .libserialport)
      let reportPath = try #require(ProcessInfo.processInfo.environment[Self.reportVariable])
      try "shim=loaded backend=libserialport checks=done\n".write(toFile: reportPath, atomically: true, encoding: .utf8)
    }

    /// Runs a program to completion (killing it after `timeout`), returning its exit status, combined output and
    /// whether it had to be killed. Blocks the calling thread: call it through `onThread`.
    private static func run(
      _ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration
    ) throws -> (status: Int32, output: String, timedOut: Bool) {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: executable)
      process.arguments = arguments
      process.environment = environment
      let output = FileManager.default.temporaryDirectory.appendingPathComponent("stedi-out-\(UUID().uuidString)")
      _ = FileManager.default.createFile(atPath: output.path, contents: nil)
      defer { try? FileManager.default.removeItem(at: output) }
      let handle = try FileHandle(forWritingTo: output)
      process.standardOutput = handle
      process.standardError = handle
      try process.run()
      let deadline = ContinuousClock.now + timeout
      while process.isRunning && ContinuousClock.now < deadline {
        Thread.sleep(forTimeInterval: 0.02)
      }
      let timedOut = process.isRunning
      if timedOut { process.terminate() }
      process.waitUntilExit()
      try handle.close()
      let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
      return (process.terminationStatus, text, timedOut)
    }
  }
#endif
