#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// Plain wrappers for the C calls whose names the types here also use for their own methods (`close`, `read`,
// `write`), so those call sites need no module-qualified (Glibc vs Darwin) names.

func posixClose(_ fd: Int32) {
  _ = close(fd)
}

func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
  read(fd, buffer, count)
}

func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
  write(fd, buffer, count)
}
