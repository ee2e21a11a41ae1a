import Synchronization

/// Two connected in-memory ends of a byte link, for tests and in-process simulation.
public final class InMemoryTransport: ByteTransport {
  public let received: AsyncThrowingStream<[UInt8], any Error>
  private let inbox: AsyncThrowingStream<[UInt8], any Error>.Continuation
  private let peer = Mutex<InMemoryTransport?>(nil)

  private init() {
    (received, inbox) = AsyncThrowingStream.makeStream(of: [UInt8].self)
  }

  /// A connected pair: what one end sends, the other receives.
  public static func pair() -> (InMemoryTransport, InMemoryTransport) {
    let a = InMemoryTransport()
    let b = InMemoryTransport()
    a.peer.withLock { $0 = b }
    b.peer.withLock { $0 = a }
    return (a, b)
  }

  public func send(_ bytes: [UInt8]) throws {
    guard let peer = peer.withLock({ $0 }) else { throw InMemoryTransportError.closed }
    peer.inbox.yield(bytes)
  }

  /// Ends both directions, as an unplugged cable would.
  public func close() {
    let other = peer.withLock { peer -> InMemoryTransport? in
      defer { peer = nil }
      return peer
    }
    inbox.finish(throwing: InMemoryTransportError.closed)
    other?.peer.withLock { $0 = nil }
    other?.inbox.finish(throwing: InMemoryTransportError.closed)
  }
}

/// The in-memory link was closed.
public enum InMemoryTransportError: Error, CustomStringConvertible {
  case closed
  public var description: String { "the in-memory link was closed" }
}
