import Foundation
import LakeStorage
import Lakehouse

/// Counts the readings of one fleet run that have landed in a lake, to reconcile against what
/// the service acknowledged.
public struct LandedReadings: Sendable {
  public let storage: any LakeStorage
  public let runID: String

  /// A counter of `runID`'s readings in the lake in `storage`.
  public init(storage: any LakeStorage, runID: String) {
    self.storage = storage
    self.runID = runID
  }

  /// Landed readings of the run per device kind (its serial numbers and emails carry the run id).
  public func count() async throws -> [FleetPlan.DeviceKind: Int] {
    var counts: [FleetPlan.DeviceKind: Int] = [:]
    for (kind, folder, marker) in [
      (FleetPlan.DeviceKind.stepTrainer, "step_trainer/landing/", FleetPlan.serialMarker(runID)),
      (.phone, "accelerometer/landing/", "\"fleet.\(runID)."),
    ] {
      let needle = Array(marker.utf8)
      var total = 0
      for object in try await storage.list(prefix: folder) {
        let bytes = try await storage.get(object.key)
        total += bytes.withUnsafeBufferPointer { buffer in
          var found = 0
          var start = 0
          while start < buffer.count {
            var end = start
            while end < buffer.count, buffer[end] != 0x0A { end += 1 }
            if ByteSearch.contains(UnsafeBufferPointer(rebasing: buffer[start..<end]), needle) { found += 1 }
            start = end + 1
          }
          return found
        }
      }
      counts[kind] = total
    }
    return counts
  }

  /// Waits until at least `expected` readings landed or `timeout` passed (the service lands a
  /// batch when it is full or old enough); returns the last count.
  public func waitFor(_ expected: Int, timeout: Duration) async throws -> [FleetPlan.DeviceKind: Int] {
    let deadline = ContinuousClock.now + timeout
    while true {
      let counts = try await count()
      if counts.values.reduce(0, +) >= expected || ContinuousClock.now >= deadline { return counts }
      try await Task.sleep(for: .milliseconds(500))
    }
  }
}
