import Foundation
import StediTestSupport
import Testing

/// A full disk is a clear error, and nothing half-written is published.
@Suite struct DiskFullTests {
  @Test func fullDiskStopsTheRunWithAClearMessageAndNoPartialTable() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    // Measure what the landing files and the tables take, on the ordinary disk.
    let measured = scratch.path + "/measured"
    try StediProcess.run(["lake", "sample", "--lake", measured, "--customers", "120", "--readings", "25"])
    let landingBytes = pagesUsed(under: measured)
    #expect(try StediProcess.run(["pipeline", "run", "--lake", measured]).status == 0)
    let tableBytes = pagesUsed(under: measured) - landingBytes

    // A tmpfs that holds the landing files and half of the tables.
    let mountPoint = scratch.path + "/small-disk"
    try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
    let mount = Process()
    mount.executableURL = URL(fileURLWithPath: "/bin/mount")
    mount.arguments = ["-t", "tmpfs", "-o", "size=\(landingBytes + tableBytes / 2)", "tmpfs", mountPoint]
    mount.standardError = FileHandle.nullDevice
    try mount.run()
    mount.waitUntilExit()
    guard mount.terminationStatus == 0 else {
      try withKnownIssue("cannot mount a small tmpfs here (needs root): the full-disk case is not exercised") {
        throw CancellationError()
      }
      return
    }
    defer {
      let unmount = Process()
      unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
      unmount.arguments = [mountPoint]
      try? unmount.run()
      unmount.waitUntilExit()
    }

    let lake = mountPoint + "/lake"
    let sample = try StediProcess.run(["lake", "sample", "--lake", lake, "--customers", "120", "--readings", "25"])
    #expect(sample.status == 0, "the landing files must fit: \(sample.stderr)")
    try FileManager.default.copyItem(atPath: measured + "/_stedi", toPath: lake + "/_stedi")

    let run = try StediProcess.run(["pipeline", "run", "--lake", lake])
    #expect(run.status == 2)
    #expect(run.stderr.contains("the disk is full"), "\(run.stderr)")
    // Whatever was published is complete: each NDJSON file parses line by line to the end, each
    // Parquet file has its footer (a file is renamed into place only once whole).
    for (path, contents) in TemporaryLake.publishedTables(lake) {
      #expect(!path.split(separator: "/").last!.hasPrefix("."), "leftover temporary file \(path)")
      if path.hasSuffix(".parquet") {
        let magic = Array("PAR1".utf8)
        #expect(
          contents.count > 8 && Array(contents.prefix(4)) == magic && Array(contents.suffix(4)) == magic, "\(path)")
      } else {
        #expect(contents.isEmpty || contents.last == UInt8(ascii: "\n"), "\(path) ends mid-line")
      }
    }
  }
}

/// Bytes the files under `folder` occupy on tmpfs: each file rounded up to whole 4 KiB pages.
private func pagesUsed(under folder: String) -> Int {
  let enumerator = FileManager.default.enumerator(atPath: folder)
  var total = 0
  while let relative = enumerator?.nextObject() as? String {
    let attributes = try? FileManager.default.attributesOfItem(atPath: folder + "/" + relative)
    guard attributes?[.type] as? FileAttributeType == .typeRegular else { continue }
    let size = attributes?[.size] as? Int ?? 0
    total += (size + 4095) / 4096 * 4096
  }
  return total
}
