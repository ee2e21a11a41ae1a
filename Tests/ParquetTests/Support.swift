import Foundation
import Parquet
import StediTestSupport

/// The Python with pyarrow and DuckDB the interoperability tests run: `.venv-parquet`, created here if absent.
struct PythonParquet: Sendable {
  /// The interpreter, or nil when it could not be found or installed (`reason` says why).
  let python: String?
  let reason: String

  // The versions scripts/test.sh installs; pinned so metadata output stays comparable.
  static let requirements = ["pyarrow==26.0.1", "duckdb==2.0.1"]

  static let shared: PythonParquet = {
    let venv = TestPaths.packageRoot.appendingPathComponent(".venv-parquet").path
    let python = "\(venv)/bin/python"
    if (try? run(python, ["-c", "import pyarrow, duckdb"]))?.status == 0 {
      return PythonParquet(python: python, reason: "")
    }
    // Not there: make it (what scripts/test.sh does), once per test run.
    let steps: [(String, [String])] = [
      ("/usr/bin/env", ["python3", "-m", "venv", venv]),
      ("\(venv)/bin/pip", ["install", "--quiet", "--disable-pip-version-check"] + requirements),
    ]
    for (tool, arguments) in steps {
      guard let result = try? run(tool, arguments), result.status == 0 else {
        let reason = "skipping: could not set up .venv-parquet (\(tool) \(arguments.joined(separator: " ")) failed)"
        FileHandle.standardError.write(Data((reason + "\n").utf8))
        return PythonParquet(python: nil, reason: reason)
      }
    }
    return PythonParquet(python: python, reason: "")
  }()

  static var available: Bool { shared.python != nil }

  /// Runs the checker script with these arguments; returns its stdout, throwing with its stderr on failure.
  func check(_ arguments: [String]) throws -> Data {
    guard let python else { throw ScriptError(message: reason) }
    let script = TestPaths.packageRoot.appendingPathComponent("Tests/ParquetTests/parquet_check.py").path
    let result = try PythonParquet.run(python, [script] + arguments)
    guard result.status == 0 else {
      throw ScriptError(message: "parquet_check.py \(arguments.first ?? "") failed: \(result.stderr)")
    }
    return result.stdout
  }

  struct ScriptError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
  }

  static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let out = Pipe()
    // stderr into a file: two pipes read one after the other can deadlock on a full buffer.
    let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-check-\(UUID()).err")
    _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorFile) }
    let errorHandle = try FileHandle(forWritingTo: errorFile)
    process.standardOutput = out
    process.standardError = errorHandle
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try? errorHandle.close()
    let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
    return (process.terminationStatus, data, stderr)
  }
}

/// Whether a decoded value equals one from the Python side (see parquet_check.py: numbers arrive as
/// strings, which read back exactly).
func matches(_ value: ParquetValue, _ json: Any) -> Bool {
  switch value {
  case .null: return json is NSNull
  case .int64(let v):
    return (json as? String).flatMap { Int64($0) } == v
  case .double(let v):
    guard let text = json as? String, let d = Double(text) else { return false }
    return d == v || (d.isNaN && v.isNaN)
  case .string(let v): return (json as? String) == v
  case .bool(let v):
    // JSONSerialization on Linux gives Bool for true/false, which does not always bridge to NSNumber.
    if let b = json as? Bool { return b == v }
    return (json as? NSNumber)?.boolValue == v
  }
}

/// Equal, with NaN equal to NaN (ParquetValue's == follows Double's).
func same(_ a: ParquetValue, _ b: ParquetValue) -> Bool {
  if case .double(let x) = a, case .double(let y) = b { return x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN) }
  return a == b
}

func sameRows(_ a: [[ParquetValue]], _ b: [[ParquetValue]]) -> Bool {
  a.count == b.count && zip(a, b).allSatisfy { x, y in x.count == y.count && zip(x, y).allSatisfy(same) }
}
