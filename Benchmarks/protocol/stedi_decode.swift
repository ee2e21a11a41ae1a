// The stedi side of the decoder benchmark (see README.md in this folder): builds Step Trainer
// frame streams with FrameEncoder, then times FrameDecoder over each, fed in 4 KiB reads as a
// serial port delivers them. Compiled by run.sh with swiftc against the release-built module:
//
//   stedi_decode [--repeats N] [--megabytes M] [--only STREAM] [--api frames|events]
//
// Prints one JSON object per stream: its size, frames, what the decoder reported, and the seconds
// of every timed pass.
import Glibc
import StepTrainerProtocol

/// A deterministic generator (SplitMix64), so every run decodes the same bytes.
struct SplitMix64 {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// A stream of wire bytes and what decoding it must report.
struct Stream {
  var name: String
  var bytes: [UInt8]
  var frames: Int
  var corrupted: Int
}

/// The status of sample i: mostly valid, with the occasional lost echo.
func status(_ i: Int) -> ReadingStatus { i % 50 == 49 ? .noEcho : (i % 97 == 96 ? .outOfRange : .ok) }

func distance(_ i: Int) -> UInt16 { UInt16(300 + (i &* 37) % 1500) }

/// READING frames (15-byte payload, 26 bytes on the wire) up to `target` bytes.
func readingStream(target: Int) -> Stream {
  var bytes: [UInt8] = []
  bytes.reserveCapacity(target + 300)
  var frames = 0
  while bytes.count < target {
    let reading = Reading(
      index: UInt32(frames), deviceTimeMs: 1_000_000 + 10 * UInt64(frames), distanceMm: distance(frames),
      status: status(frames))
    bytes += FrameEncoder.encoded(.reading(reading), sequence: UInt16(truncatingIfNeeded: frames))
    frames += 1
  }
  return Stream(name: "small", bytes: bytes, frames: frames, corrupted: 0)
}

/// READING_BATCH frames of 45 samples (238-byte payload, 249 bytes on the wire) up to `target` bytes.
func batchStream(target: Int) -> Stream {
  var bytes: [UInt8] = []
  bytes.reserveCapacity(target + 300)
  var frames = 0
  var sample = 0
  while bytes.count < target {
    var batch = ReadingBatch(firstIndex: UInt32(sample), firstTimeMs: 1_000_000 + 10 * UInt64(sample))
    for k in 0..<ReadingBatch.capacity {
      let appended = batch.append(
        ReadingBatch.Entry(offsetMs: UInt16(10 * k), distanceMm: distance(sample + k), status: status(sample + k)))
      precondition(appended)
    }
    sample += ReadingBatch.capacity
    bytes += FrameEncoder.encoded(.readingBatch(batch), sequence: UInt16(truncatingIfNeeded: frames))
    frames += 1
  }
  return Stream(name: "large", bytes: bytes, frames: frames, corrupted: 0)
}

/// The same stream with 1% of its frames hit by one wrong byte (which may be a stray 0x00,
/// splitting the frame in two): each such frame must be rejected and every other delivered.
func noisy(_ clean: Stream) -> Stream {
  var random = SplitMix64(state: 0x5354_4544_4931)
  var bytes = clean.bytes
  var corrupted = 0
  var start = 0
  while start < bytes.count {
    var end = start
    while bytes[end] != 0 { end += 1 }
    if random.below(100) == 0 {
      let at = start + random.below(end - start)
      bytes[at] ^= UInt8(1 + random.below(255))
      corrupted += 1
    }
    start = end + 1
  }
  return Stream(name: clean.name + "-noisy", bytes: bytes, frames: clean.frames, corrupted: corrupted)
}

func now() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_MONOTONIC, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// What one pass saw; `checksum` keeps the delivered fields alive.
struct Pass {
  var messages = 0
  var rejected = 0
  var checksum = 0
}

/// Decodes the whole stream with a fresh decoder, 4 KiB at a time, the way a host drains ports:
/// `decodeFrames`, which lends each frame and lets the handler decode only what it uses (a READING
/// straight from its payload, a batch's fields in place), instead of building a ~300-byte
/// `DecoderEvent` per frame.
@inline(never)
func decodePass(_ bytes: UnsafeBufferPointer<UInt8>) -> Pass {
  var decoder = FrameDecoder()
  var pass = Pass()
  var offset = 0
  while offset < bytes.count {
    let end = min(bytes.count, offset + 4096)
    decoder.decodeFrames(UnsafeBufferPointer(rebasing: bytes[offset..<end])) { event in
      switch event {
      case .frame(let frame):
        pass.messages += 1
        if let reading = frame.reading {
          pass.checksum &+= Int(reading.distanceMm)
        } else if let batch = frame.readingBatchView {
          pass.checksum &+= batch.count &+ Int(batch.entry(batch.count - 1).distanceMm)
        }
      case .rejected:
        pass.rejected += 1
      }
    }
    offset = end
  }
  return pass
}

/// The same pass through `decode`, which builds a `DecoderEvent` (a whole `Message`) per frame:
/// the API the firmware and older host code use, timed as `--api events` for comparison.
@inline(never)
func decodePassEvents(_ bytes: UnsafeBufferPointer<UInt8>) -> Pass {
  var decoder = FrameDecoder()
  var pass = Pass()
  var offset = 0
  while offset < bytes.count {
    let end = min(bytes.count, offset + 4096)
    decoder.decode(UnsafeBufferPointer(rebasing: bytes[offset..<end])) { event in
      switch event {
      case .message(.reading(let reading), _):
        pass.messages += 1
        pass.checksum &+= Int(reading.distanceMm)
      case .message(.readingBatch(let batch), _):
        pass.messages += 1
        pass.checksum &+= batch.count &+ Int(batch.entry(batch.count - 1).distanceMm)
      case .message:
        pass.messages += 1
      case .rejected:
        pass.rejected += 1
      }
    }
    offset = end
  }
  return pass
}

@main
struct StediDecodeBenchmark {
  static func main() {
    var repeats = 5
    var megabytes = 16
    var only: String? = nil
    var events = false
    var arguments = CommandLine.arguments.dropFirst()
    while let flag = arguments.popFirst() {
      if flag == "--only", let name = arguments.popFirst() {
        only = name  // one stream alone, for profiling (perf record)
        continue
      }
      if flag == "--api", let name = arguments.popFirst(), name == "frames" || name == "events" {
        events = name == "events"
        continue
      }
      guard let value = arguments.popFirst().flatMap({ Int($0) }), value > 0 else {
        fputs("usage: stedi_decode [--repeats N] [--megabytes M] [--only STREAM] [--api frames|events]\n", stderr)
        exit(64)
      }
      switch flag {
      case "--repeats": repeats = value
      case "--megabytes": megabytes = value
      default:
        fputs("unknown flag \(flag)\n", stderr)
        exit(64)
      }
    }
    let target = megabytes * 1_000_000
    let small = readingStream(target: target)
    let large = batchStream(target: target)
    let streams = [small, large, noisy(small), noisy(large)].filter { only == nil || $0.name == only }
    var seconds = [[Double]](repeating: [], count: streams.count)
    var passes = [Pass](repeating: Pass(), count: streams.count)
    // One untimed pass each (page faults, caches), then the repeats, streams interleaved.
    for round in 0...repeats {
      for (i, stream) in streams.enumerated() {
        stream.bytes.withUnsafeBufferPointer { buffer in
          let start = now()
          let pass = events ? decodePassEvents(buffer) : decodePass(buffer)
          let elapsed = now() - start
          if round > 0 { seconds[i].append(elapsed) }
          passes[i] = pass
        }
      }
    }
    var failed = false
    for (i, stream) in streams.enumerated() {
      let pass = passes[i]
      if pass.messages != stream.frames - stream.corrupted || (stream.corrupted == 0 && pass.rejected != 0)
        || pass.rejected < stream.corrupted
      {
        fputs(
          "error: \(stream.name): \(pass.messages) messages, \(pass.rejected) rejections; expected "
            + "\(stream.frames - stream.corrupted) messages and \(stream.corrupted)+ rejections\n", stderr)
        failed = true
      }
      let list = seconds[i].map { String($0) }.joined(separator: ", ")
      print(
        """
        {"side": "stedi", "api": "\(events ? "events" : "frames")", "stream": "\(stream.name)", "bytes": \(stream.bytes.count), "frames": \(stream.frames), \
        "corrupted": \(stream.corrupted), "messages": \(pass.messages), "rejected": \(pass.rejected), \
        "checksum": \(pass.checksum), "seconds": [\(list)]}
        """)
    }
    exit(failed ? 1 : 0)
  }
}
