import StepTrainerProtocol

#if STEDI_FUZZ
  /// libFuzzer's driver, called from our own entry point: SwiftPM links an executable target with
  /// `main` defined as `<module>_main` (`--defsym`), so libFuzzer's own `main` cannot be used.
  @_silgen_name("LLVMFuzzerRunDriver")
  func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
  ) -> CInt

  /// The program's entry point (see above): hands the command line to libFuzzer.
  @_cdecl("stedi_fuzz_decoder_main")
  public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzDecoder(data, size) }
  }

  /// libFuzzer's entry point: feeds the input to a decoder whole and in slices chosen by the input
  /// itself, and to `decodeFrames` in the same slices, and traps when any two disagree or a
  /// delivered message does not re-encode to a frame that decodes to the same message. Crashes
  /// inside the decoder (bounds, overflow) trap by themselves.
  @_cdecl("LLVMFuzzerTestOneInput")
  public func fuzzDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    var whole = FrameDecoder()
    var wholeEvents: [DecoderEvent] = []
    whole.decode(input) { wholeEvents.append($0) }

    var sliced = FrameDecoder()
    var slicedEvents: [DecoderEvent] = []
    var position = 0
    var step = size > 0 ? Int(input[0] % 7) + 1 : 1
    while position < size {
      let end = min(size, position + step)
      sliced.decode(UnsafeBufferPointer(rebasing: input[position..<end])) { slicedEvents.append($0) }
      step = Int(input[position] % 13) + 1
      position = end
    }
    precondition(wholeEvents == slicedEvents, "slicing changed the events")
    precondition(whole.counters == sliced.counters && whole.pendingBytes == sliced.pendingBytes)

    // The lending API, in the same slices: the same events (each lent frame decoded to its
    // message, with readings and batches also through their own accessors) and counters.
    var lending = FrameDecoder()
    var lentEvents: [DecoderEvent] = []
    position = 0
    step = size > 0 ? Int(input[0] % 7) + 1 : 1
    while position < size {
      let end = min(size, position + step)
      lending.decodeFrames(UnsafeBufferPointer(rebasing: input[position..<end])) { event in
        switch event {
        case .frame(let frame):
          let message = frame.message
          if let reading = frame.reading { precondition(message == .reading(reading), "reading accessor") }
          if let batch = frame.readingBatch {
            precondition(message == .readingBatch(batch), "batch accessor")
            let view = frame.readingBatchView!
            precondition(view.count == batch.count && view.firstIndex == batch.firstIndex, "batch view")
            for i in 0..<batch.count { precondition(view[i] == batch[i], "batch view entry") }
          }
          lentEvents.append(.message(message, sequence: frame.sequence))
        case .rejected(let reason, _):
          lentEvents.append(.rejected(reason))
        }
      }
      step = Int(input[position] % 13) + 1
      position = end
    }
    precondition(lentEvents == wholeEvents, "decodeFrames and decode disagree")
    precondition(lending.counters == whole.counters && lending.pendingBytes == whole.pendingBytes)

    for case .message(let message, let sequence) in wholeEvents {
      var again = FrameDecoder()
      let events = again.decode(FrameEncoder.encoded(message, sequence: sequence))
      precondition(events == [.message(message, sequence: sequence)], "a delivered message does not round-trip")
    }
    return 0
  }
#else
  @main
  struct FuzzerBuildHint {
    static func main() {
      print(
        """
        This is the decoder's libFuzzer target, built without the fuzzer. Build and run it with:
          bash scripts/fuzz-decoder.sh [seconds]
        """)
    }
  }
#endif
