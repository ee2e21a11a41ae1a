import Foundation

extension FleetReport {
  /// The report as one self-contained HTML page (inline CSS and SVG charts; nothing loaded from anywhere).
  public func html() -> String {
    typealias F = ReportFormat
    let e = HTML.escape
    var title = "Fleet run \(scenario)"
    if let shard { title += " (shard \(shard))" }

    var body = ""
    body += "<h1>\(e(title))</h1>\n"
    body += "<p class=\"sub\">against <code>\(e(target))</code>, started \(e(Self.timestamp(startedAt)))</p>\n"

    body += "<section class=\"grid\">\n"
    body += HTML.table(
      caption: "Summary",
      header: nil,
      rows: [
        ["Duration", "\(F.fixed(durationSeconds, 1)) s"],
        ["Devices (peak)", F.grouped(devices)],
        ["Connections", F.grouped(connections)],
        ["Requests sent", F.grouped(requests.sent)],
        ["Requests acknowledged", F.grouped(requests.acknowledged)],
        ["Readings sent", F.grouped(readings.sent)],
        ["Readings acknowledged", F.grouped(readings.acknowledged)],
        ["Readings refused", F.grouped(readings.refused)],
        ["Readings failed", F.grouped(readings.failed)],
        ["Readings unanswered", F.grouped(readings.unanswered)],
        ["Throughput", "\(F.grouped(Int(throughput.readingsPerSecond.rounded()))) readings/s"],
        ["", "\(F.grouped(Int(throughput.requestsPerSecond.rounded()))) requests/s"],
        ["Peak", "\(F.grouped(throughput.peakReadingsPerSecond)) readings/s"],
      ])
    body += HTML.table(
      caption: "Acknowledgement latency",
      header: nil,
      rows: [
        ["acknowledgements", F.grouped(latency.count)],
        ["p50", "\(F.milliseconds(latency.p50)) ms"],
        ["p90", "\(F.milliseconds(latency.p90)) ms"],
        ["p99", "\(F.milliseconds(latency.p99)) ms"],
        ["p99.9", "\(F.milliseconds(latency.p999)) ms"],
        ["max", "\(F.milliseconds(latency.max)) ms"],
        ["mean", "\(F.milliseconds(latency.mean)) ms"],
      ])
    let known = FleetErrorKind.allCases.map(\.rawValue)
    let kinds = known + Set(errors.keys).union(readings.failedByKind.keys).subtracting(known).sorted()
    body += HTML.table(
      caption: "Errors",
      header: ["kind", "requests", "readings"],
      rows: kinds.map { [$0, F.grouped(errors[$0] ?? 0), F.grouped(readings.failedByKind[$0] ?? 0)] })
    body += HTML.table(
      caption: "Refused on purpose",
      header: ["reason", "readings"],
      rows: readings.refusedByReason.isEmpty
        ? [["none", "0"]] : readings.refusedByReason.sorted { $0.key < $1.key }.map { [$0.key, F.grouped($0.value)] })
    if let r = reconciliation {
      body += HTML.table(
        caption: "Reconciliation with the lake",
        header: nil,
        rows: [
          ["Acknowledged", F.grouped(r.readingsAcknowledged)],
          ["Landed", F.grouped(r.readingsLanded)],
          ["Refused", F.grouped(r.readingsRefused)],
        ],
        reasons: r.refusedByReason.sorted { $0.key < $1.key }.map { ($0.key, F.grouped($0.value)) },
        trailing: [
          ["Missing (acknowledged, not landed)", F.grouped(r.missing)],
          ["Unexpected (landed, not acknowledged)", F.grouped(r.unexpected)],
        ],
        status: r.balanced ? ("balanced", "ok") : ("not balanced", "bad"))
    } else {
      body += "<table><caption>Reconciliation with the lake</caption><tr><td>not done</td></tr></table>\n"
    }
    body += "</section>\n"

    body += throughputChart()
    body += latencyChart()

    return """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(e(title))</title>
      <style>
      \(HTML.style)
      </style>
      </head>
      <body>
      \(body)</body>
      </html>

      """
  }

  /// Points of the timeline worth plotting as rates: a trailing partial second shorter than half a second would
  /// turn a few stray readings into a spike.
  private var plottedTimeline: [TimelinePoint] {
    guard timeline.count > 1, let last = timeline.last, last.seconds < 0.5 else { return timeline }
    return Array(timeline.dropLast())
  }

  private func throughputChart() -> String {
    let points = plottedTimeline
    // Each rate is plotted at the middle of its interval.
    func series(_ name: String, _ color: String, _ width: Double, _ value: (TimelinePoint) -> Int)
      -> SVGLineChart.Series
    {
      SVGLineChart.Series(
        name: name, color: color, width: width,
        points: points.map { p in
          (Double(p.t) + p.seconds / 2, p.seconds > 0 ? Double(value(p)) / p.seconds : nil)
        })
    }
    return SVGLineChart(
      title: "Readings per second",
      xLabel: "seconds since start",
      yLabel: "readings/s",
      xMax: xMax,
      series: [
        // Sent and acknowledged coincide in a healthy run: sent is drawn wide underneath, as a halo.
        series("sent", "#9ca3af", 5, \.readingsSent),
        series("acknowledged", "#2563eb", 1.8, \.readingsAcknowledged),
      ]
    ).svg()
  }

  private func latencyChart() -> String {
    let points = timeline
    func series(_ name: String, _ color: String, _ value: (TimelinePoint) -> Double?) -> SVGLineChart.Series {
      SVGLineChart.Series(name: name, color: color, points: points.map { (Double($0.t) + $0.seconds / 2, value($0)) })
    }
    return SVGLineChart(
      title: "Acknowledgement latency per second",
      xLabel: "seconds since start",
      yLabel: "ms",
      xMax: xMax,
      series: [series("p50", "#059669", \.p50), series("p99", "#dc2626", \.p99)]
    ).svg()
  }

  private var xMax: Double {
    max(1, durationSeconds, timeline.last.map { Double($0.t) + $0.seconds } ?? 0)
  }

  private static func timestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: date)
  }
}

/// Pieces of HTML.
enum HTML {
  /// Text safe inside element content and inside single- or double-quoted attributes.
  static func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.append(c)
      }
    }
    return out
  }

  /// A table with a caption, an optional header and row labels in the first column; then indented sub-rows
  /// (`reasons`), more rows and a coloured result. Every cell is escaped.
  static func table(
    caption: String, header: [String]?, rows: [[String]], reasons: [(String, String)] = [],
    trailing: [[String]] = [], status: (text: String, cssClass: String)? = nil
  ) -> String {
    var out = "<table>\n<caption>\(escape(caption))</caption>\n"
    if let header {
      out += "<tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
    }
    func row(_ cells: [String]) -> String {
      "<tr>"
        + cells.enumerated().map { i, cell in
          i == 0 ? "<th>\(escape(cell))</th>" : "<td>\(escape(cell))</td>"
        }.joined() + "</tr>\n"
    }
    for cells in rows { out += row(cells) }
    for (reason, count) in reasons {
      out += "<tr class=\"reason\"><th>\(escape(reason))</th><td>\(escape(count))</td></tr>\n"
    }
    for cells in trailing { out += row(cells) }
    if let status {
      out += "<tr><th>Result</th><td class=\"\(escape(status.cssClass))\">\(escape(status.text))</td></tr>\n"
    }
    return out + "</table>\n"
  }

  static let style = """
    body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
      padding: 0 1em; color: #111827; background: #fff; }
    h1 { font-size: 1.5em; margin-bottom: 0.2em; word-break: break-all; }
    .sub { color: #4b5563; margin-top: 0; word-break: break-all; }
    .grid { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
    table { border-collapse: collapse; }
    caption { text-align: left; font-weight: 600; padding-bottom: 0.3em; }
    th, td { padding: 2px 10px 2px 0; text-align: left; vertical-align: top; }
    th { font-weight: normal; color: #4b5563; }
    td { font-variant-numeric: tabular-nums; text-align: right; }
    tr.reason th { padding-left: 1.2em; }
    .ok { color: #047857; font-weight: 600; }
    .bad { color: #b91c1c; font-weight: 600; }
    figure { margin: 2em 0 0; }
    figcaption { font-weight: 600; margin-bottom: 0.3em; }
    svg { width: 100%; max-width: 900px; height: auto; display: block; }
    svg text { font: 11px system-ui, sans-serif; fill: #374151; }
    svg .grid line { stroke: #e5e7eb; }
    svg .axis { stroke: #6b7280; }
    @media (prefers-color-scheme: dark) {
      body { color: #e5e7eb; background: #111827; }
      th, .sub { color: #9ca3af; }
      svg text { fill: #d1d5db; }
      svg .grid line { stroke: #374151; }
    }
    """
}

/// A line chart drawn by hand as inline SVG: axes with ticks and labels, a legend, gaps where a value is missing.
struct SVGLineChart {
  struct Series {
    var name: String
    var color: String
    /// Wider lines are drawn first, so a series that mostly coincides with another shows as a halo around it.
    var width = 1.8
    /// x and y in data units; a nil y breaks the line.
    var points: [(x: Double, y: Double?)]
  }

  var title: String
  var xLabel: String
  var yLabel: String
  var xMax: Double
  var series: [Series]

  private let width = 900.0
  private let height = 320.0
  private let left = 72.0
  private let right = 16.0
  private let top = 34.0
  private let bottom = 44.0

  init(title: String, xLabel: String, yLabel: String, xMax: Double, series: [Series]) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.xMax = xMax
    self.series = series
  }

  func svg() -> String {
    let e = HTML.escape
    let plotWidth = width - left - right
    let plotHeight = height - top - bottom
    let dataMax = series.flatMap { $0.points.compactMap(\.y) }.max() ?? 0
    let yStep = Self.niceStep(dataMax > 0 ? dataMax : 1)
    let yMax = max(yStep, (dataMax / yStep).rounded(.up) * yStep)
    let xStep = max(1, Self.niceStep(xMax))
    func px(_ x: Double) -> Double { left + x / xMax * plotWidth }
    func py(_ y: Double) -> Double { top + plotHeight - y / yMax * plotHeight }
    func n(_ v: Double) -> String { ReportFormat.trimmed(v, 1) }

    var out = "<figure>\n<figcaption>\(e(title))</figcaption>\n"
    out += "<svg viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-label=\"\(e(title))\">\n"
    out += "<title>\(e(title))</title>\n"

    // Grid lines and tick labels.
    out += "<g class=\"grid\">\n"
    let yDecimals = max(0, Int(-log10(yStep).rounded(.down)))
    var y = 0.0
    while y <= yMax + yStep / 1000 {
      out += "<line x1=\"\(n(left))\" y1=\"\(n(py(y)))\" x2=\"\(n(width - right))\" y2=\"\(n(py(y)))\"/>"
      let label = yDecimals == 0 ? ReportFormat.grouped(Int(y.rounded())) : ReportFormat.trimmed(y, yDecimals)
      out += "<text x=\"\(n(left - 6))\" y=\"\(n(py(y) + 4))\" text-anchor=\"end\">\(e(label))</text>\n"
      y += yStep
    }
    var x = 0.0
    while x <= xMax + xStep / 1000 {
      out +=
        "<line x1=\"\(n(px(x)))\" y1=\"\(n(top + plotHeight))\" x2=\"\(n(px(x)))\" y2=\"\(n(top + plotHeight + 5))\"/>"
      out += "<text x=\"\(n(px(x)))\" y=\"\(n(top + plotHeight + 18))\" text-anchor=\"middle\">"
      out += "\(e(ReportFormat.grouped(Int(x.rounded()))))</text>\n"
      x += xStep
    }
    out += "</g>\n"

    // Axes and their labels.
    out +=
      "<path class=\"axis\" fill=\"none\" d=\"M\(n(left)),\(n(top)) V\(n(top + plotHeight)) H\(n(width - right))\"/>\n"
    out += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(height - 6))\" text-anchor=\"middle\">\(e(xLabel))</text>\n"
    out += "<text transform=\"translate(14 \(n(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">"
    out += "\(e(yLabel))</text>\n"

    // Legend, above the plot.
    var legendX = left
    for s in series {
      out += "<line x1=\"\(n(legendX))\" y1=\"14\" x2=\"\(n(legendX + 18))\" y2=\"14\" stroke=\"\(e(s.color))\" "
      out += "stroke-width=\"\(n(Swift.max(2.5, s.width)))\"/>"
      out += "<text x=\"\(n(legendX + 23))\" y=\"18\">\(e(s.name))</text>\n"
      legendX += 34 + Double(s.name.count) * 7
    }

    // The lines: a path per series, broken where a value is missing; lone points as dots so they still show.
    var anyPoint = false
    for s in series.sorted(by: { $0.width > $1.width }) {
      var segments: [[(Double, Double)]] = [[]]
      for point in s.points {
        if let value = point.y {
          segments[segments.count - 1].append((px(point.x), py(value)))
        } else if !segments[segments.count - 1].isEmpty {
          segments.append([])
        }
      }
      var d = ""
      for segment in segments where segment.count > 1 {
        d += "M" + segment.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " L")
      }
      if !d.isEmpty {
        anyPoint = true
        out += "<path fill=\"none\" stroke=\"\(e(s.color))\" stroke-width=\"\(n(s.width))\" stroke-linejoin=\"round\" "
        out += "d=\"\(d)\"><title>\(e(s.name))</title></path>\n"
      }
      for segment in segments where segment.count == 1 {
        anyPoint = true
        out += "<circle cx=\"\(n(segment[0].0))\" cy=\"\(n(segment[0].1))\" r=\"2.5\" fill=\"\(e(s.color))\"/>\n"
      }
    }
    if !anyPoint {
      out += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(top + plotHeight / 2))\" text-anchor=\"middle\">"
      out += "no data</text>\n"
    }
    return out + "</svg>\n</figure>\n"
  }

  /// 1, 2 or 5 times a power of ten, so that about five steps cover `range`.
  static func niceStep(_ range: Double, ticks: Double = 5) -> Double {
    guard range > 0, range.isFinite else { return 1 }
    let raw = range / ticks
    let magnitude = pow(10, (log10(raw)).rounded(.down))
    let fraction = raw / magnitude
    let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
    return nice * magnitude
  }
}
