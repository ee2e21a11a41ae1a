#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Starts a named, detached OS thread: the package's one way to run a loop that blocks (a port's
/// receive loop in `poll()`, the pseudo-terminal device's), which must not happen on Swift's
/// cooperative thread pool.
package func startDetachedThread(name: String, _ body: @escaping @Sendable () -> Void) throws(SerialPortError) {
  final class Box {
    let body: @Sendable () -> Void
    init(body: @escaping @Sendable () -> Void) { self.body = body }
  }
  let box = Unmanaged.passRetained(Box(body: body)).toOpaque()
  var attributes = pthread_attr_t()
  pthread_attr_init(&attributes)
  defer { pthread_attr_destroy(&attributes) }
  pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
  #if os(Linux)
    var thread = pthread_t()
    let result = pthread_create(
      &thread, &attributes,
      { raw in
        Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
      }, box)
  #else
    var thread: pthread_t?
    let result = pthread_create(
      &thread, &attributes,
      { raw in
        Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
        return nil
      }, box)
  #endif
  if result != 0 {
    Unmanaged<Box>.fromOpaque(box).release()
    throw .io(path: name, operation: "pthread_create", errno: result)
  }
}
