import Dispatch

/// Runs `body` for every index in `0..<count` on all cores and returns when all are done.
///
/// `body` may run on several threads at once, so it must only touch state owned by its index
/// (or immutable shared state). Dispatch asks for a `@Sendable` closure; the pipeline's work
/// items write to disjoint slots, which the type system cannot see.
package func concurrentForEach(_ count: Int, _ body: (Int) -> Void) {
  if count == 1 {
    body(0)
    return
  }
  withoutActuallyEscaping(body) { escapable in
    nonisolated(unsafe) let work = escapable
    DispatchQueue.concurrentPerform(iterations: count) { work($0) }
  }
}
