import AsyncHTTPClient
import Foundation
import NIOCore
import StediTestSupport
import Testing

/// The phone capture page (simulators/phone/index.html) as a customer's phone uses it: headless
/// Chromium, driven by simulators/phone/test/drive_phone.py, opens `/phone#token=…` on a real
/// `stedi serve`, taps Start with emulated motion, records for a few seconds and taps Stop; what
/// lands in the lake is compared with what the driver fed the motion sensor and what the page says
/// the service acknowledged.
/// Where the browser is: $STEDI_CHROMIUM, else the first of Chromium's usual names on PATH.
enum PhoneBrowser {
  static let chromium: String? = {
    let environment = ProcessInfo.processInfo.environment
    let folders = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
    if let explicit = environment["STEDI_CHROMIUM"], !explicit.isEmpty {
      // A path, or a name on PATH; nothing else (so STEDI_CHROMIUM=/nonexistent stands for "absent").
      if explicit.contains("/") { return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil }
      return folders.map { "\($0)/\(explicit)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
      for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
        return "\(folder)/\(name)"
      }
    }
    return nil
  }()

  static let inCI = !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty

  /// Chromium, or a recorded failure when CI runs without it (elsewhere the suite is skipped).
  static func require() -> String? {
    guard let chromium else {
      Issue.record("Chromium is absent but CI is set: bash scripts/test.sh installs it (apt-get install -y chromium)")
      return nil
    }
    return chromium
  }
}

@Suite(
  .serialized,
  .enabled(
    if: PhoneBrowser.chromium != nil || PhoneBrowser.inCI,
    "no Chromium (chromium, chromium-browser or google-chrome on PATH, or STEDI_CHROMIUM): bash scripts/test.sh installs it"
  ))
struct PhonePageTests {
  static let user = "phone.tester@example.com"

  static let packageRoot = TestPaths.packageRoot
  static let driver = packageRoot.appendingPathComponent("simulators/phone/test/drive_phone.py").path

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// Runs blocking work (pipes, child processes) on a Dispatch thread, not the test's cooperative pool.
  static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
  }

  // MARK: - the service

  /// A running `stedi serve --port 0` and the address from its first line.
  final class Service: @unchecked Sendable {
    let process: Process
    let base: String

    init(lake: String) async throws {
      let process = try StediProcess.start(["serve", "--lake", lake, "--port", "0", "--batch-max-age", "0.5"])
      self.process = process
      let line = try await offPool { () -> String in
        let output = (process.standardOutput as! Pipe).fileHandleForReading
        var bytes: [UInt8] = []
        while let byte = try output.read(upToCount: 1), let first = byte.first, first != 0x0A { bytes.append(first) }
        return String(decoding: bytes, as: UTF8.self)
      }
      guard line.hasPrefix("listening on http://") else {
        process.terminate()
        let stderr = try await offPool {
          String(decoding: (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        }
        throw Failure(description: "stedi serve did not start: '\(line)'; stderr: \(stderr)")
      }
      base = String(line.dropFirst("listening on ".count)).trimmingCharacters(in: .whitespaces)
    }

    /// SIGTERM: the service flushes what it holds to landing and exits; returns status and stderr.
    func stop() async throws -> (status: Int32, stderr: String) {
      let process = self.process
      if process.isRunning { process.terminate() }
      return try await offPool {
        let stderr = (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self))
      }
    }
  }

  static func issueToken(lake: String, user: String, extra: [String] = []) throws -> String {
    let outcome = try StediProcess.run(["token", "issue", "--lake", lake, "--user", user] + extra)
    guard outcome.status == 0 else {
      throw Failure(description: "stedi token issue failed (\(outcome.status)): \(outcome.stderr)")
    }
    return outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// The claims of a `stedi1.<claims>.<mac>` token.
  static func claims(_ token: String) throws -> [String: Any] {
    let parts = token.split(separator: ".")
    guard parts.count == 3 else { throw Failure(description: "not a stedi1 token: \(token)") }
    var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
    guard let data = Data(base64Encoded: base64),
      let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { throw Failure(description: "unreadable token claims: \(parts[1])") }
    return object
  }

  // MARK: - the driver

  struct DriverRun: @unchecked Sendable {
    var status: Int32
    var summary: [String: Any]
    var stderr: String

    var errors: [String] { summary["errors"] as? [String] ?? [] }
    func int(_ key: String) -> Int { (summary[key] as? NSNumber)?.intValue ?? -1 }
  }

  /// Runs drive_phone.py to completion (it bounds its own waits).
  static func drive(base: String, token: String, chromium: String, extra: [String] = [], scratch: String) async throws
    -> DriverRun
  {
    let arguments = [driver, "--base", base, "--token", token, "--chromium", chromium] + extra
    return try await offPool {
      let out = "\(scratch)/driver-\(UUID().uuidString).out"
      let err = "\(scratch)/driver-\(UUID().uuidString).err"
      _ = FileManager.default.createFile(atPath: out, contents: nil)
      _ = FileManager.default.createFile(atPath: err, contents: nil)
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = ["python3"] + arguments
      process.standardInput = FileHandle.nullDevice
      process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
      process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
      try process.run()
      process.waitUntilExit()
      let stdout = try String(contentsOfFile: out, encoding: .utf8)
      let stderr = try String(contentsOfFile: err, encoding: .utf8)
      let lastLine = stdout.split(separator: "\n").last.map(String.init) ?? ""
      guard let summary = try? JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any] else {
        throw Failure(
          description: "drive_phone.py printed no summary (exit \(process.terminationStatus)): \(stdout) \(stderr)")
      }
      return DriverRun(status: process.terminationStatus, summary: summary, stderr: stderr)
    }
  }

  // MARK: - the lake

  struct Landed {
    var file: String
    var user: String
    var timestamp: Int64
    var x, y, z: Double
  }

  /// Every reading in accelerometer/landing (NDJSON files, nested folders included), file by file
  /// and in each file's order.
  static func landed(_ lake: String) throws -> [Landed] {
    let folder = "\(lake)/accelerometer/landing"
    guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
    var readings: [Landed] = []
    for case let name as String in walker {
      let base = (name as NSString).lastPathComponent
      #expect(!base.hasPrefix("."), "no temporary file left in landing: \(name)")
      guard name.hasSuffix(".json"), !base.hasPrefix(".") else { continue }
      for line in try String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8).split(separator: "\n") {
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
          let user = object["user"] as? String, let timestamp = object["timestamp"] as? NSNumber,
          let x = object["x"] as? NSNumber, let y = object["y"] as? NSNumber, let z = object["z"] as? NSNumber
        else {
          Issue.record("a landed line lacks user, timestamp, x, y or z: \(line)")
          continue
        }
        readings.append(
          Landed(
            file: name, user: user, timestamp: timestamp.int64Value, x: x.doubleValue, y: y.doubleValue,
            z: z.doubleValue))
      }
    }
    return readings
  }

  /// Whether `values`, consecutive repeats collapsed, appear in `fed` in order (a reading may miss
  /// a short-lived value, never reorder them). Values compare within `tolerance`.
  static func isOrderedSubsequence(_ values: [Double], of fed: [Double], tolerance: Double) -> Bool {
    var collapsed: [Double] = []
    for value in values where collapsed.last.map({ abs($0 - value) > tolerance }) ?? true { collapsed.append(value) }
    var cursor = fed.startIndex
    for value in collapsed {
      guard let found = fed[cursor...].firstIndex(where: { abs($0 - value) <= tolerance }) else { return false }
      cursor = found
    }
    return true
  }

  // MARK: - tests

  /// "auto" takes Chromium's virtual sensors when they reach the page (they do in Debian 12's
  /// Chromium 156), "dispatched-events" the driver's fallback, kept working here.
  @Test(arguments: ["auto", "dispatched-events"]) func recordsThroughThePage(motion: String) async throws {
    guard let chromium = PhoneBrowser.require() else { return }
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = "\(scratch.path)/lake"
    try FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)
    let token = try Self.issueToken(lake: lake, user: Self.user)
    let service = try await Service(lake: lake)

    // The page, as the phone first loads it.
    let response = try await HTTPClient.shared.execute(
      HTTPClientRequest(url: service.base + "/phone"), timeout: .seconds(10))
    let page = String(buffer: try await response.body.collect(upTo: 1 << 20))
    #expect(response.status.code == 200)
    #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
    #expect(
      page.contains("devicemotion") && page.contains("/v1/accelerometer/readings"), "GET /phone serves the capture page"
    )
    for marker in ["src=\"http", "href=\"http", "src='http", "href='http", "url(http", "@import"] {
      #expect(!page.contains(marker), "no external resources: the page has \(marker)")
    }

    let windowStart = Int64(Date().timeIntervalSince1970 * 1000)
    let run = try await Self.drive(
      base: service.base, token: token, chromium: chromium,
      extra: ["--seconds", "3", "--timeout", "60", "--path", motion],
      scratch: scratch.path)
    let windowEnd = Int64(Date().timeIntervalSince1970 * 1000)
    let (status, stderr) = try await service.stop()
    #expect(status == 0, "stedi serve exits 0 on SIGTERM; stderr: \(stderr)")

    #expect(run.status == 0, "driver failed: \(run.errors) \(run.stderr)")
    #expect(run.errors.isEmpty)
    let path = run.summary["path"] as? String
    #expect(motion == "auto" ? path == "sensor-override" || path == "dispatched-events" : path == motion)
    #expect(run.summary["user"] as? String == Self.user, "the page records as the token's user")
    let acknowledged = run.int("acknowledged")
    #expect(acknowledged > 0)
    #expect(run.int("sent") == acknowledged)
    // 3 s at about 60 Hz; at least a third of that even on a loaded machine.
    #expect(acknowledged >= 60, "only \(acknowledged) readings in 3 s")

    let readings = try Self.landed(lake)
    #expect(readings.count == acknowledged, "landing holds exactly the acknowledged readings")
    for reading in readings where reading.user != Self.user {
      Issue.record("a landed reading of another user: \(reading.user)")
    }
    let outside = readings.filter { !(windowStart...windowEnd).contains($0.timestamp) }
    #expect(
      outside.isEmpty, "timestamps outside the run (\(windowStart)…\(windowEnd)): \(outside.prefix(3).map(\.timestamp))"
    )
    let sorted = readings.sorted { $0.timestamp < $1.timestamp }
    #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $0.timestamp < $1.timestamp }, "distinct timestamps")
    for file in Set(readings.map(\.file)) {
      let times = readings.filter { $0.file == file }.map(\.timestamp)
      #expect(times == times.sorted(), "\(file): readings in the order they were taken")
    }

    // The values are the emulated pattern: x and y constants, z the fed sine, in the fed order.
    let pattern = run.summary["pattern"] as? [String: Any] ?? [:]
    let x = (pattern["x"] as? NSNumber)?.doubleValue ?? .nan
    let y = (pattern["y"] as? NSNumber)?.doubleValue ?? .nan
    let fed = (pattern["z"] as? [NSNumber] ?? []).map(\.doubleValue)
    let tolerance = 1e-9
    #expect(readings.allSatisfy { abs($0.x - x) <= tolerance && abs($0.y - y) <= tolerance }, "x = \(x), y = \(y)")
    let strays = readings.filter { reading in !fed.contains { abs($0 - reading.z) <= tolerance } }
    #expect(strays.isEmpty, "z values never fed: \(strays.prefix(5).map(\.z)); fed \(fed)")
    #expect(Self.isOrderedSubsequence(sorted.map(\.z), of: fed, tolerance: tolerance), "z lands in the order fed")
    let distinct = Set(readings.map { ($0.z * 10).rounded() })
    #expect(distinct.count >= 5, "the emulated motion shows: \(distinct.count) distinct z values")
  }

  @Test func expiredForeignTokensAndDeniedMotionLandNothing() async throws {
    guard let chromium = PhoneBrowser.require() else { return }
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = "\(scratch.path)/lake"
    let otherLake = "\(scratch.path)/other-lake"
    for folder in [lake, otherLake] {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }
    let valid = try Self.issueToken(lake: lake, user: Self.user)
    // Another lake's key signs this one: well-formed and unexpired, but the service must refuse it.
    let foreign = try Self.issueToken(lake: otherLake, user: Self.user)
    // Expires within a second (the shortest the command gives); waited out below.
    let expired = try Self.issueToken(lake: lake, user: Self.user, extra: ["--expires-in", "0.00001"])
    let expiry = (try Self.claims(expired)["exp"] as? NSNumber)?.doubleValue ?? 0
    let service = try await Service(lake: lake)

    let wait = expiry + 1.1 - Date().timeIntervalSince1970
    if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
    let late = try await Self.drive(
      base: service.base, token: expired, chromium: chromium, extra: ["--seconds", "2", "--timeout", "20"],
      scratch: scratch.path)
    #expect(late.status == 1, "the driver fails on an expired token: \(late.summary)")
    #expect(late.errors.contains { $0.contains("expired") }, "the page says the link expired: \(late.errors)")
    #expect(late.int("sent") == 0)

    let stranger = try await Self.drive(
      base: service.base, token: foreign, chromium: chromium, extra: ["--seconds", "2", "--timeout", "20"],
      scratch: scratch.path)
    #expect(stranger.status == 1, "the driver fails on a foreign token: \(stranger.summary)")
    #expect(stranger.errors.contains { $0.contains("401") }, "the page stops on 401: \(stranger.errors)")
    #expect(stranger.summary["state"] as? String == "rejected")
    #expect(stranger.int("acknowledged") == 0)

    // iOS: the page asks for motion access from the tap; when refused it records nothing.
    let denied = try await Self.drive(
      base: service.base, token: valid, chromium: chromium,
      extra: ["--seconds", "1", "--timeout", "20", "--ios-permission", "denied"], scratch: scratch.path)
    #expect(denied.status == 1, "the driver fails when motion access is denied: \(denied.summary)")
    let asks = (denied.summary["permission_asks"] as? [Any] ?? []).map { ($0 as? NSNumber)?.boolValue }
    #expect(asks == [true], "asked once, from the tap")
    #expect(denied.errors.contains { $0.contains("permission denied") }, "\(denied.errors)")

    let (status, stderr) = try await service.stop()
    #expect(status == 0, "stedi serve exits 0 on SIGTERM; stderr: \(stderr)")
    #expect(try Self.landed(lake).isEmpty, "nothing lands")
  }
}
