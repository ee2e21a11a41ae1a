import Foundation
import IngestAPI
import Testing

/// The first line `handle` yields (nil at end of file). Reading a pipe blocks: it is done on a
/// Dispatch thread, not on the test's cooperative pool.
func firstLine(of handle: FileHandle) async -> String? {
  await withCheckedContinuation { continuation in
    DispatchQueue.global().async {
      var bytes: [UInt8] = []
      while true {
        let chunk = handle.readData(ofLength: 1)
        if chunk.isEmpty || chunk.first == 0x0A { break }
        bytes.append(chunk.first!)
      }
      continuation.resume(returning: bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self))
    }
  }
}

/// A `stedi serve` process started by a test, with the address it reported.
struct ServeProcess {
  let process: Process
  let baseURL: String

  /// Starts `stedi serve --port 0 <arguments>` and waits for its "listening on" line.
  static func start(_ arguments: [String], environment: [String: String] = [:]) async throws -> ServeProcess {
    let process = try StediProcess.start(["serve", "--port", "0"] + arguments, environment: environment)
    let output = (process.standardOutput as! Pipe).fileHandleForReading
    let line = await firstLine(of: output)
    guard let line, line.hasPrefix("listening on ") else {
      process.terminate()
      let stderr = (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
      throw ServeFailure(message: "stedi serve did not start: \(line ?? "") \(String(decoding: stderr, as: UTF8.self))")
    }
    return ServeProcess(process: process, baseURL: String(line.dropFirst("listening on ".count)))
  }

  /// SIGTERM, then waits for a clean exit; returns stderr.
  @discardableResult
  func stop() async -> (status: Int32, stderr: String) {
    process.terminate()
    return await waitForExit()
  }

  /// SIGKILL: the process gets no chance to flush anything.
  func kill9() async {
    kill(process.processIdentifier, SIGKILL)
    _ = await waitForExit()
  }

  private func waitForExit() async -> (status: Int32, stderr: String) {
    let process = self.process
    return await withCheckedContinuation { continuation in
      DispatchQueue.global().async {
        let stderr = (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        continuation.resume(returning: (process.terminationStatus, String(decoding: stderr, as: UTF8.self)))
      }
    }
  }

  /// POSTs `body` with a bearer token; returns the status, or nil when no response came.
  func post(_ path: String, token: String, body: String, timeout: Duration = .seconds(10)) async -> Int? {
    try? await IngestClient(baseURL: baseURL).post(path: path, token: token, ndjson: Array(body.utf8), timeout: timeout)
      .status
  }
}

struct ServeFailure: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}

/// Every landing line of `source` in a lake folder (date folders included).
func landingLines(_ lake: String, _ source: String) -> [String] {
  let folder = "\(lake)/\(source)/landing"
  guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
  var lines: [String] = []
  while let name = enumerator.nextObject() as? String {
    guard name.hasSuffix(".json"), !(name as NSString).lastPathComponent.hasPrefix(".") else { continue }
    let text = (try? String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8)) ?? ""
    lines += text.split(separator: "\n").map(String.init)
  }
  return lines
}
