import Foundation

/// The columns of a phyphox CSV: which one is the time and which are the x, y and z accelerations.
///
/// A time column is named `Time (s)` (or `t (s)`); an axis column is a name whose last word is
/// `x`, `y` or `z` with the unit `(m/s^2)`: `Acceleration x (m/s^2)`, `Linear Acceleration x (m/s^2)`,
/// the iOS multi-sensor `X (m/s^2)`, or a hand-renamed `Accel_X (m/s^2)`. Quotes are optional, so a
/// header re-saved by a spreadsheet (unquoted) is read the same way. Other columns
/// (`Absolute acceleration (m/s^2)`) are checked to be numbers when present but not imported.
struct PhyphoxLayout {
  var columnNames: [String]
  var time: Int
  var x: Int
  var y: Int
  var z: Int
  /// The column family's name (`Acceleration`, `Linear Acceleration`), or the file name when the columns have none.
  var stream: String
  var gravity: GravityContent

  /// Recognises the header, or nil when it is not a phyphox acceleration header.
  init?(names: [String], path: String) {
    var time: Int?
    // Axis columns grouped by their name without the axis letter ("Acceleration", "Linear Acceleration", "").
    var groups: [String: [Character: Int]] = [:]
    var groupOrder: [String] = []
    for (index, name) in names.enumerated() {
      let (base, unit) = Self.splitUnit(name)
      guard let unit else { continue }
      let lowered = base.lowercased()
      if time == nil, lowered == "time" || lowered == "t", unit.lowercased() == "s" {
        time = index
        continue
      }
      guard Self.isAccelerationUnit(unit), let (prefix, axis) = Self.splitAxis(base) else { continue }
      if groups[prefix] == nil { groupOrder.append(prefix) }
      if groups[prefix, default: [:]][axis] != nil { return nil }  // the same column twice: ambiguous
      groups[prefix, default: [:]][axis] = index
    }
    let complete = groupOrder.filter { groups[$0]?.count == 3 }
    guard let time, complete.count == 1, let prefix = complete.first, let axes = groups[prefix] else { return nil }
    columnNames = names
    self.time = time
    x = axes["x"]!
    y = axes["y"]!
    z = axes["z"]!
    let fileName = (path as NSString).lastPathComponent
    let fileStem = (fileName as NSString).deletingPathExtension
    stream = prefix.isEmpty ? fileStem : prefix
    gravity = Self.gravity(prefix: prefix, fileName: fileName)
  }

  /// With or without gravity, from the names: phyphox calls acceleration without gravity
  /// "Linear Acceleration" (sensor "Linear Accelerometer") and with gravity "Acceleration"
  /// (sensor "Accelerometer"). Column names win over the file name; other names say nothing.
  static func gravity(prefix: String, fileName: String) -> GravityContent {
    let columns = prefix.lowercased()
    if columns.contains("linear") { return .removed }
    if columns == "acceleration" { return .included }
    let file = fileName.lowercased()
    if file.contains("linear") { return .removed }
    if columns.isEmpty, file.contains("accelerometer") || file.contains("acceleration") { return .included }
    return .unknown
  }

  /// `Acceleration x (m/s^2)` → (`Acceleration x`, `m/s^2`).
  static func splitUnit(_ name: String) -> (base: String, unit: String?) {
    let trimmed = name.trimmingCharacters(in: .whitespaces)
    guard trimmed.hasSuffix(")"), let open = trimmed.lastIndex(of: "(") else { return (trimmed, nil) }
    let base = trimmed[..<open].trimmingCharacters(in: .whitespaces)
    let unit = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]
    return (base, unit.trimmingCharacters(in: .whitespaces))
  }

  static func isAccelerationUnit(_ unit: String) -> Bool {
    let folded = unit.lowercased().filter { $0 != " " }
    return ["m/s^2", "m/s²", "m/s2", "ms^-2", "m*s^-2", "m·s^-2", "m·s⁻²", "ms⁻²"].contains(folded)
  }

  /// `Linear Acceleration x` → (`Linear Acceleration`, x); `Accel_X` → (`Accel`, x); `X` → ("", x).
  static func splitAxis(_ base: String) -> (prefix: String, axis: Character)? {
    let separators: Set<Character> = [" ", "_", "-"]
    guard let last = base.last, separators.contains(base.dropLast().last ?? " ") else { return nil }
    let axis = Character(last.lowercased())
    guard axis == "x" || axis == "y" || axis == "z" else { return nil }
    var prefix = Substring(base.dropLast())
    while let end = prefix.last, separators.contains(end) { prefix.removeLast() }
    return (String(prefix), axis)
  }
}

/// How phyphox experiment time maps to the wall clock, from `meta/time.csv`.
///
/// Each `START` row gives an experiment time and the Unix time (`system time`, seconds) at that
/// moment. A sample at experiment time t is placed by the last `START` at or before t:
/// epoch = system time + (t − experiment time). With one START (the usual case) that is simply
/// start + t; with pauses (several START/PAUSE pairs) each run is placed by its own START, whether or
/// not the experiment clock kept running during the pause. Both iOS (`1.696884613547111E9`) and
/// Android (`1695674132.382`) number styles, any of the three separators and a decimal comma are read,
/// all exactly (integer nanoseconds, no floating point).
public struct PhyphoxClock: Sendable, Equatable {
  /// One START event, in nanoseconds.
  public struct Start: Sendable, Equatable {
    public var experimentTime: Int64
    public var epoch: Int64
  }

  /// The START events in experiment-time order.
  public private(set) var starts: [Start]
  /// How many PAUSE events the file lists.
  public private(set) var pauses: Int

  /// A clock whose experiment time 0 is at `epochNanoseconds`.
  public init(startNanoseconds epochNanoseconds: Int64) {
    starts = [Start(experimentTime: 0, epoch: epochNanoseconds)]
    pauses = 0
  }

  /// Reads the contents of a phyphox `meta/time.csv`.
  public init(timeCSV bytes: [UInt8]) throws(PhoneImportError) {
    let lines = DelimitedText.lines(bytes, from: DelimitedText.contentStart(bytes))
    guard let header = lines.first(where: { !DelimitedText.isBlank(bytes, $0.range) }) else {
      throw .invalidTimeFile(reason: "the file is empty")
    }
    let separator = DelimitedText.separator(ofHeader: bytes, header.range)
    let names = (DelimitedText.headerNames(bytes, header.range, separator: separator) ?? []).map { $0.lowercased() }
    guard let eventColumn = names.firstIndex(of: "event"),
      let experimentColumn = names.firstIndex(of: "experiment time"),
      let systemColumn = names.firstIndex(of: "system time")
    else {
      throw .invalidTimeFile(
        reason: "expected the columns \"event\",\"experiment time\",\"system time\"; the header is "
          + DelimitedText.preview(bytes, header.range))
    }
    let decimalComma = separator != DelimitedText.comma
    var starts: [Start] = []
    var pauses = 0
    for line in lines where line.number > header.number && !DelimitedText.isBlank(bytes, line.range) {
      guard case .fields(let fields) = DelimitedText.fields(bytes, line.range, separator: separator),
        fields.count > max(eventColumn, experimentColumn, systemColumn)
      else {
        throw .invalidTimeFile(
          reason: "line \(line.number) is not a complete row: \(DelimitedText.preview(bytes, line.range))")
      }
      let event = DelimitedText.text(bytes, fields[eventColumn]).uppercased()
      if event == "PAUSE" { pauses += 1 }
      guard event == "START" else { continue }
      func nanoseconds(_ column: Int, _ name: String) throws(PhoneImportError) -> Int64 {
        guard
          case .value(let value) = DelimitedText.scaled(
            bytes, fields[column].range, scale: 9, decimalComma: decimalComma)
        else {
          throw .invalidTimeFile(
            reason:
              "line \(line.number): the \(name) `\(DelimitedText.text(bytes, fields[column]))` is not a time in seconds"
          )
        }
        return value
      }
      starts.append(
        Start(
          experimentTime: try nanoseconds(experimentColumn, "experiment time"),
          epoch: try nanoseconds(systemColumn, "system time")))
    }
    guard !starts.isEmpty else { throw .invalidTimeFile(reason: "it has no START event") }
    self.starts = starts.sorted { $0.experimentTime < $1.experimentTime }
    self.pauses = pauses
  }

  /// The epoch time (ns) of experiment time `nanoseconds`, or nil if it overflows.
  public func epoch(experimentTime nanoseconds: Int64) -> Int64? {
    var start = starts[0]
    for candidate in starts.dropFirst() where candidate.experimentTime <= nanoseconds { start = candidate }
    let (offset, overflow1) = nanoseconds.subtractingReportingOverflow(start.experimentTime)
    let (epoch, overflow2) = start.epoch.addingReportingOverflow(offset)
    return overflow1 || overflow2 ? nil : epoch
  }
}

/// Reads a phyphox CSV export.
///
/// Conversions:
/// * time: the `Time (s)` column is seconds since the experiment started. It is read exactly as
///   decimal nanoseconds, placed on the wall clock by `PhyphoxClock` (start from `meta/time.csv`
///   plus the seconds), and the epoch nanoseconds are rounded DOWN to whole milliseconds (floor).
/// * values: the x, y and z columns are m/s² already and are kept as they are, gravity or not;
///   `PhoneImport.gravity` says which kind they are.
/// * numbers: decimal point or (with a TAB or semicolon separator) decimal comma, plain or scientific.
/// * rows: a row with the wrong number of fields, an empty (`""`) time or axis, a field that is not a
///   number, or a NaN/infinite value is rejected with its line number; nothing is dropped silently.
///   Repeated or backward times are kept and counted.
struct PhyphoxImporter {
  let table: DelimitedTable
  let layout: PhyphoxLayout

  /// Reads the header; throws when it is not a phyphox acceleration header.
  init(_ bytes: [UInt8], path: String) throws(PhoneImportError) {
    table = try DelimitedTable(bytes, path: path)
    guard let layout = PhyphoxLayout(names: table.names, path: path) else {
      throw table.headerMismatch(format: .phyphox, expected: PhoneImportError.phyphoxExpectation)
    }
    self.layout = layout
  }

  /// Reads the samples, placing them on the wall clock with `clock`.
  func read(clock: PhyphoxClock, notes: [String]) -> PhoneImport {
    let bytes = table.bytes
    let decimalComma = table.decimalComma
    var times: [Int64] = []
    var values: [(Double, Double, Double)] = []
    times.reserveCapacity(table.lines.count)
    values.reserveCapacity(table.lines.count)
    let usedColumns = [layout.time, layout.x, layout.y, layout.z]

    let (rejected, blankLines) = table.forEachRow { fields in
      func problem<Value>(_ parse: NumberParse<Value>, column: Int) -> RowProblem? {
        table.problem(parse, in: fields, column: column, outOfRange: "is out of range")
      }
      let timeParse = DelimitedText.scaled(bytes, fields[layout.time].range, scale: 9, decimalComma: decimalComma)
      if let problem = problem(timeParse, column: layout.time) { return problem }
      var axes: [Double] = []
      for column in [layout.x, layout.y, layout.z] {
        let parse = DelimitedText.double(bytes, fields[column].range, decimalComma: decimalComma)
        if let problem = problem(parse, column: column) { return problem }
        if case .value(let value) = parse { axes.append(value) }
      }
      for column in fields.indices where !usedColumns.contains(column) {
        let parse = DelimitedText.double(bytes, fields[column].range, decimalComma: decimalComma)
        if case .empty = parse { continue }  // an unused column may be missing
        if let problem = problem(parse, column: column) { return problem }
      }
      guard case .value(let experimentTime) = timeParse, let epoch = clock.epoch(experimentTime: experimentTime) else {
        return (.timeOutOfRange, "\(layout.columnNames[layout.time]) does not fit the clock")
      }
      times.append(epoch)
      values.append((axes[0], axes[1], axes[2]))
      return nil
    }
    var notes = notes
    if let first = values.first, first == (0, 0, 0) {
      notes.append(
        "the first sample is exactly 0 on every axis (Android linear acceleration starts this way); it was kept")
    }
    return PhoneImport(
      format: .phyphox, stream: layout.stream, gravity: layout.gravity,
      samples: PhoneClock.samples(nanoseconds: times, values: values), rejected: rejected,
      sampleRate: PhoneClock.sampleRate(nanoseconds: times),
      nonIncreasingSteps: PhoneClock.nonIncreasingSteps(nanoseconds: times), blankLines: blankLines, notes: notes)
  }
}
