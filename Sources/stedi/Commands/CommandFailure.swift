import ArgumentParser
import Foundation
import LakeStorage
import Lakehouse

/// How a command fails: one line on stderr, `stedi: error: ...`, and exit code 2.
enum CommandFailure {
  /// Writes `message` to stderr; throw the exit code it returns.
  static func report(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("stedi: error: \(message)\n".utf8))
    return ExitCode(2)
  }

  /// Runs `body`, turning a lake's error into one line on stderr and exit code 2.
  static func reporting<Result>(_ body: () throws -> Result) throws -> Result {
    do {
      return try body()
    } catch let error as StorageError {
      throw report(error.description)
    }
  }

  /// Runs `body`, turning a lake's error into one line on stderr and exit code 2.
  static func reporting<Result>(_ body: () async throws -> Result) async throws -> Result {
    do {
      return try await body()
    } catch let error as StorageError {
      throw report(error.description)
    }
  }

  /// Runs a start-up step, turning any error into `cannot start: <the error in one line>`.
  static func reportingStartFailures<Result>(_ body: () async throws -> Result) async throws -> Result {
    do {
      return try await reporting(body)
    } catch let exit as ExitCode {
      throw exit
    } catch {
      throw report("cannot start: \(oneLine(error))")
    }
  }

  /// An error in one line. Foundation's file errors say what in `localizedDescription` and where
  /// and why in their user info: all three, without the dump of the whole error.
  static func oneLine(_ error: any Error) -> String {
    var text = "\(error)"
    let nsError = error as NSError
    if error is CocoaError || nsError.domain == NSCocoaErrorDomain {
      text = nsError.localizedDescription
      if let path = nsError.userInfo[NSFilePathErrorKey] as? String { text += " (\(path))" }
      if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        text += ": \(String(cString: strerror(Int32(underlying.code))))"
      }
    }
    return text.split(whereSeparator: \.isNewline).joined(separator: " ")
  }
}
