import Parquet

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
  @_cdecl("stedi_fuzz_parquet_main")
  public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzParquet(data, size) }
  }

  /// libFuzzer's entry point: reads the input as a Parquet file, every column of every row group.
  /// A `ParquetError` is the expected answer to most inputs; crashes (bounds, overflow) trap by
  /// themselves, and a file that reads must hold as many values per column as its footer says.
  @_cdecl("LLVMFuzzerTestOneInput")
  public func fuzzParquet(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? ParquetFile(bytes: bytes) else { return 0 }
    for g in file.rowGroups.indices {
      for c in file.schema.columns.indices {
        guard let values = try? file.readColumn(c, rowGroup: g) else { continue }
        precondition(values.count == Int(file.rowGroups[g].numRows), "a column read with the wrong row count")
      }
    }
    return 0
  }
#else
  @main
  struct FuzzerBuildHint {
    static func main() {
      print(
        """
        This is the Parquet reader's libFuzzer target, built without the fuzzer. Build and run it with:
          bash scripts/fuzz-parquet.sh [seconds]
        """)
    }
  }
#endif
