/// The device's ring buffer of samples not yet sent: full, it drops the oldest (PROTOCOL.md 4.5).
struct SampleBuffer {
  private var storage: [GeneratedSample?]
  private var head = 0
  /// Samples held.
  private(set) var count = 0

  /// An empty buffer holding up to `capacity` samples.
  init(capacity: Int) {
    precondition(capacity > 0, "a sample buffer needs room for at least one sample")
    storage = Array(repeating: nil, count: capacity)
  }

  /// How many samples fit.
  var capacity: Int { storage.count }

  /// Appends a sample; returns the oldest sample, dropped to make room, when the buffer was full.
  mutating func append(_ sample: GeneratedSample) -> GeneratedSample? {
    if count == capacity {
      let dropped = storage[head]
      storage[head] = sample
      head = (head + 1) % capacity
      return dropped
    }
    storage[(head + count) % capacity] = sample
    count += 1
    return nil
  }

  /// The oldest sample, or nil when empty.
  var first: GeneratedSample? { count == 0 ? nil : storage[head] }

  /// The i-th oldest sample.
  subscript(i: Int) -> GeneratedSample { storage[(head + i) % capacity]! }

  /// Removes the `n` oldest samples.
  mutating func removeFirst(_ n: Int) {
    precondition(n <= count, "removing more samples than the buffer holds")
    for i in 0..<n { storage[(head + i) % capacity] = nil }
    head = (head + n) % capacity
    count -= n
  }

  /// Empties the buffer; returns how many samples it held.
  mutating func removeAll() -> Int {
    let held = count
    removeFirst(count)
    head = 0
    return held
  }
}
