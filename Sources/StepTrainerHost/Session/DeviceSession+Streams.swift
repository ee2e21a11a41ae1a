extension DeviceSession {
  /// The session's readings as an async sequence: iterating runs the session, and the sequence
  /// ends with the error that ended the session (stopping the iteration closes nothing; call `close`).
  public func readings() -> AsyncThrowingStream<CapturedReading, any Error> {
    let (stream, continuation) = AsyncThrowingStream.makeStream(of: CapturedReading.self)
    let task = Task {
      do {
        try await self.run { event in
          if case .reading(let reading) = event { continuation.yield(reading) }
        }
      } catch {
        continuation.finish(throwing: error)
      }
    }
    continuation.onTermination = { _ in task.cancel() }
    return stream
  }

  /// Everything the session reports, as an async sequence; iterating runs the session.
  public func events() -> AsyncThrowingStream<SessionEvent, any Error> {
    let (stream, continuation) = AsyncThrowingStream.makeStream(of: SessionEvent.self)
    let task = Task {
      do {
        try await self.run { continuation.yield($0) }
      } catch {
        continuation.finish(throwing: error)
      }
    }
    continuation.onTermination = { _ in task.cancel() }
    return stream
  }
}
