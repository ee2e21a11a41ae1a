/// Runs `body` on every element with at most `limit` running at once, and returns the results
/// (in completion order): storage round trips overlap without opening a connection per object.
public func forEachBounded<Element: Sendable, Result: Sendable>(
  _ elements: [Element], limit: Int, _ body: @escaping @Sendable (Element) async throws -> Result
) async throws -> [Result] {
  try await withThrowingTaskGroup(of: Result.self) { group in
    var results: [Result] = []
    var next = 0
    while next < min(max(1, limit), elements.count) {
      let element = elements[next]
      group.addTask { try await body(element) }
      next += 1
    }
    while let result = try await group.next() {
      results.append(result)
      if next < elements.count {
        let element = elements[next]
        group.addTask { try await body(element) }
        next += 1
      }
    }
    return results
  }
}
