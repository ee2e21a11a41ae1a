import Foundation

/// A simple reference step counter over a phone's accelerometer: peaks of the acceleration
/// magnitude, with gravity and slow motion removed, above a threshold and at least a minimum
/// interval apart. It is the baseline a learned step detector has to beat, and the proof that
/// the emulated signal carries the steps.
public struct StepCounter: Sendable {
  /// Peaks below this (m/s² above the local mean) are not steps.
  public var threshold: Double = 1.0
  /// Two steps are never closer than this, in milliseconds.
  public var minimumInterval: Int64 = 300
  /// Window of the moving mean that removes gravity and sway, in milliseconds.
  public var baselineWindow: Int64 = 1000

  public init() {}

  /// The times (ms) of the detected steps.
  public func steps(in samples: [PhoneSample]) -> [Int64] {
    guard samples.count > 2 else { return [] }
    let magnitude = samples.map { ($0.x * $0.x + $0.y * $0.y + $0.z * $0.z).squareRoot() }
    // Moving mean over a time window (two pointers), subtracted to leave the body's motion.
    var detrended = [Double](repeating: 0, count: samples.count)
    var low = 0
    var high = 0
    var sum = 0.0
    for index in samples.indices {
      let time = samples[index].timestamp
      while high < samples.count, samples[high].timestamp <= time + baselineWindow / 2 {
        sum += magnitude[high]
        high += 1
      }
      while samples[low].timestamp < time - baselineWindow / 2 {
        sum -= magnitude[low]
        low += 1
      }
      detrended[index] = magnitude[index] - sum / Double(high - low)
    }
    var steps: [Int64] = []
    for index in 1..<(samples.count - 1) {
      let value = detrended[index]
      guard value >= threshold, value >= detrended[index - 1], value > detrended[index + 1] else { continue }
      let time = samples[index].timestamp
      if let last = steps.last, time - last < minimumInterval { continue }
      steps.append(time)
    }
    return steps
  }
}
