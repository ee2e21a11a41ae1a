// Compact in-memory rows of the zone tables. Strings (emails, serial numbers) are replaced by
// dense ids into sorted dictionaries, so rows are small, compare fast, and sort into the same
// order on every run whatever the order of the landing files.

/// An accelerometer_trusted row; `subject` indexes the run's sorted email list.
struct AccelerometerRow {
  var subject: Int32
  var timestamp: Int64
  var x: Double
  var y: Double
  var z: Double

  static func < (a: Self, b: Self) -> Bool {
    if a.subject != b.subject { return a.subject < b.subject }
    if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
    if a.x != b.x { return a.x < b.x }
    if a.y != b.y { return a.y < b.y }
    return a.z < b.z
  }

  static func == (a: Self, b: Self) -> Bool {
    a.subject == b.subject && a.timestamp == b.timestamp && a.x == b.x && a.y == b.y && a.z == b.z
  }
}

/// A step_trainer_trusted row; `serial` indexes the run's sorted serial-number list.
struct StepTrainerRow {
  var serial: Int32
  var time: Int64
  var distance: Double

  static func < (a: Self, b: Self) -> Bool {
    if a.serial != b.serial { return a.serial < b.serial }
    if a.time != b.time { return a.time < b.time }
    return a.distance < b.distance
  }

  static func == (a: Self, b: Self) -> Bool {
    a.serial == b.serial && a.time == b.time && a.distance == b.distance
  }
}

/// A machine_learning_curated row: a step row and the phone reading paired with it.
struct CuratedRow {
  var step: StepTrainerRow
  var reading: AccelerometerRow
}

extension Array {
  /// Sorts and removes adjacent duplicates: SQL's DISTINCT with a deterministic order.
  mutating func sortDistinct(by less: (Element, Element) -> Bool, equal: (Element, Element) -> Bool) {
    sort(by: less)
    guard count > 1 else { return }
    var kept = 1
    for index in 1..<count where !equal(self[index], self[kept - 1]) {
      self[kept] = self[index]
      kept += 1
    }
    removeLast(count - kept)
  }
}
