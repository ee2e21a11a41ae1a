import Foundation
import Synchronization
import Testing

@testable import LakeStorage

#if canImport(Glibc)
  import Glibc
#endif

/// S3Storage's retries, against a scripted HTTP server on loopback: idempotent requests are tried
/// again after a 5xx answer or a dropped connection, a bounded number of times; others are not.
struct S3RetryTests {
  /// One scripted answer: an HTTP status with a body, or a connection closed without answering.
  enum Answer: Sendable {
    case status(Int, String)
    case hangUp
  }

  /// A server that answers each connection with the next scripted answer, then closes it.
  final class ScriptedServer: Sendable {
    let port: Int
    private let core: Core

    init(_ answers: [Answer]) throws {
      let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_addr.s_addr = inet_addr("127.0.0.1")
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let listening = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 && listen(listener, 8) == 0
        }
      }
      try #require(listening)
      port = Int(UInt16(bigEndian: address.sin_port))
      let core = Core(listener: listener, answers: answers)
      self.core = core
      Thread.detachNewThread { core.serve() }
    }

    /// Requests received so far.
    var requests: Int { core.state.withLock { $0.requestLines.count } }
    /// Their request lines (`PUT /lake/a.json?x=y HTTP/1.1`).
    var requestLines: [String] { core.state.withLock { $0.requestLines } }

    deinit {
      // Ends the serving thread's accept; it closes the listener.
      shutdown(core.listener, Int32(SHUT_RDWR))
    }

    /// What the serving thread uses (not the server, so that the server can go away).
    final class Core: Sendable {
      let listener: Int32
      let state: Mutex<(answers: [Answer], requestLines: [String])>

      init(listener: Int32, answers: [Answer]) {
        self.listener = listener
        state = Mutex((answers, []))
      }

      func serve() {
        defer { close(listener) }
        while true {
          let connection = accept(listener, nil, nil)
          guard connection >= 0 else { return }
          let line = readRequest(connection)
          let answer = state.withLock { state -> Answer in
            state.requestLines.append(line)
            return state.answers.isEmpty ? .status(500, "script exhausted") : state.answers.removeFirst()
          }
          if case .status(let status, let body) = answer {
            let response =
              "HTTP/1.1 \(status) Scripted\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            _ = response.withCString { send(connection, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
          }
          close(connection)
        }
      }

      /// Reads the head and the body announced by Content-Length; returns the request line.
      private func readRequest(_ connection: Int32) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
          let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
          if count <= 0 { return String(decoding: received, as: UTF8.self).components(separatedBy: "\r\n")[0] }
          received += buffer[..<count]
          let text = String(decoding: received, as: UTF8.self)
          guard let headEnd = text.range(of: "\r\n\r\n") else { continue }
          let length =
            text[..<headEnd.lowerBound].lowercased().split(separator: "\r\n")
            .first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
          if received.count - text[..<headEnd.upperBound].utf8.count >= length {
            return text.components(separatedBy: "\r\n")[0]
          }
        }
      }
    }
  }

  static func storage(_ server: ScriptedServer) -> S3Storage {
    S3Storage(
      configuration: S3Configuration(
        location: S3Location(bucket: "lake"), endpoint: "http://127.0.0.1:\(server.port)", region: "us-east-1",
        accessKeyID: "AKIATEST", secretAccessKey: "secret"))
  }

  @Test func idempotentRequestsAreRetriedAfter5xx() async throws {
    let server = try ScriptedServer([.status(503, ""), .status(500, ""), .status(200, "whole")])
    #expect(try await Self.storage(server).get("a.json") == Array("whole".utf8))
    #expect(server.requests == 3)
  }

  @Test func retriesAreBounded() async throws {
    let server = try ScriptedServer([.status(503, ""), .status(503, ""), .status(503, ""), .status(200, "late")])
    await #expect(
      throws: StorageError.failed(location: "s3://lake", operation: "reading a.json", reason: "HTTP 503")
    ) {
      try await Self.storage(server).get("a.json")
    }
    #expect(server.requests == 3)
  }

  @Test func droppedConnectionsAreRetried() async throws {
    let server = try ScriptedServer([.hangUp, .status(200, "")])
    try await Self.storage(server).put("a.json", bytes: [1, 2, 3])
    #expect(server.requests == 2)
  }

  /// Starting a multipart upload is not idempotent: a 5xx answer is reported, not retried.
  @Test func nonIdempotentRequestsAreNotRetried() async throws {
    let server = try ScriptedServer([.status(503, ""), .status(200, "")])
    let response = try await Self.storage(server).send(
      "POST", objectKey: "a.json", query: [("uploads", "")], operation: "storing a.json", idempotent: false)
    #expect(response.status == 503)
    #expect(server.requests == 1)
  }

  /// Client errors (4xx) are answers, not failures to retry.
  @Test func clientErrorsAreNotRetried() async throws {
    let server = try ScriptedServer([.status(400, ""), .status(200, "")])
    await #expect(throws: StorageError.self) { try await Self.storage(server).get("a.json") }
    #expect(server.requests == 1)
  }

  /// A multipart upload whose part is refused is aborted, so no parts are left stored.
  @Test func failedMultipartUploadIsAborted() async throws {
    let initiated =
      "<InitiateMultipartUploadResult><Bucket>lake</Bucket><Key>big</Key><UploadId>u-1</UploadId>"
      + "</InitiateMultipartUploadResult>"
    let server = try ScriptedServer([.status(200, initiated), .status(400, ""), .status(204, "")])
    var storage = Self.storage(server)
    storage.multipartThreshold = 5 << 20
    storage.partConcurrency = 1
    await #expect(throws: StorageError.self) {
      try await storage.put("big", bytes: [UInt8](repeating: 1, count: 6 << 20))
    }
    #expect(
      server.requestLines == [
        "POST /lake/big?uploads= HTTP/1.1", "PUT /lake/big?partNumber=1&uploadId=u-1 HTTP/1.1",
        "DELETE /lake/big?uploadId=u-1 HTTP/1.1",
      ])
  }
}
