import Foundation
import Testing

@testable import Fleet

@Suite struct FleetReportTests {
  let start = ContinuousClock.now

  func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int((seconds * 1000).rounded())) }

  func report(_ recorder: FleetRecorder, at seconds: Double, reconciliation: FleetReconciliation? = nil) -> FleetReport
  {
    recorder.report(
      scenario: "test", target: "http://127.0.0.1:8080", shard: nil, reconciliation: reconciliation, at: at(seconds))
  }

  // MARK: Latency

  @Test func percentilesOfAUniformDistribution() {
    let recorder = FleetRecorder(startedAt: start)
    // 1...1000 ms, shuffled so that order cannot matter.
    for ms in (1...1000).shuffled() {
      recorder.acknowledged(readings: 1, latency: .milliseconds(ms), at: at(0.5))
    }
    let latency = report(recorder, at: 1).latency
    #expect(latency.count == 1000)
    // Three significant digits: within 0.1% of the true value (the histogram answers with the bucket's top).
    #expect(abs(latency.p50 - 500) <= 0.5)
    #expect(abs(latency.p90 - 900) <= 0.9)
    #expect(abs(latency.p99 - 990) <= 1)
    #expect(abs(latency.p999 - 999) <= 1)
    #expect(latency.max == 1000)
    #expect(abs(latency.mean - 500.5) <= 0.5)
  }

  @Test func subMillisecondAndHugeLatencies() {
    let recorder = FleetRecorder(startedAt: start)
    recorder.acknowledged(readings: 1, latency: .microseconds(250), at: at(0.1))
    recorder.acknowledged(readings: 1, latency: .microseconds(250), at: at(0.1))
    // Beyond the histogram's 60 s: clamped, still counted.
    recorder.acknowledged(readings: 1, latency: .seconds(90), at: at(0.1))
    // A negative latency (clock trouble) counts as 0 rather than crashing.
    recorder.acknowledged(readings: 1, latency: .milliseconds(-5), at: at(0.1))
    let latency = report(recorder, at: 1).latency
    #expect(latency.count == 4)
    #expect(latency.p50 == 0.25)
    #expect(latency.max == 60_000)
  }

  @Test func emptyRunHasZeroLatencyAndNoNaN() throws {
    let recorder = FleetRecorder(startedAt: start)
    let r = recorder.report(scenario: "empty", target: "t", shard: nil, reconciliation: nil, at: start)
    #expect(r.latency == .init(count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0))
    #expect(r.throughput.readingsPerSecond == 0)
    #expect(r.durationSeconds == 0)
    #expect(try FleetReport(json: r.json()) == r)
    #expect(r.html().contains("no data"))
  }

  // MARK: Timeline

  @Test func perSecondTimelineBuckets() throws {
    let recorder = FleetRecorder(startedAt: start)
    recorder.deviceConnected(at: at(0.0))
    recorder.deviceConnected(at: at(0.1))
    recorder.sent(readings: 10, at: at(0.2))
    recorder.acknowledged(readings: 10, latency: .milliseconds(5), at: at(0.7))
    recorder.sent(readings: 20, at: at(0.99))
    recorder.sent(readings: 30, at: at(1.5))
    recorder.acknowledged(readings: 20, latency: .milliseconds(40), at: at(1.6))
    recorder.failed(kind: .timeout, readings: 30, at: at(1.9))
    recorder.deviceDisconnected(at: at(1.95))
    // Second 2 stays empty; second 3 is partial (the run is finished at 3.5 s).
    recorder.sent(readings: 7, at: at(3.2))
    recorder.refused(readings: 7, reason: "wrong_serial", at: at(3.3))
    recorder.finish(at: at(3.5))
    // The report comes long after the finish (waiting for the lake): duration still ends at the finish.
    let r = report(recorder, at: 60)

    #expect(r.durationSeconds == 3.5)
    #expect(r.timeline.map(\.t) == [0, 1, 2, 3])
    #expect(r.timeline.map(\.seconds) == [1, 1, 1, 0.5])
    #expect(r.timeline.map(\.readingsSent) == [30, 30, 0, 7])
    #expect(r.timeline.map(\.requestsSent) == [2, 1, 0, 1])
    #expect(r.timeline.map(\.readingsAcknowledged) == [10, 20, 0, 0])
    #expect(r.timeline.map(\.readingsRefused) == [0, 0, 0, 7])
    #expect(r.timeline.map(\.errors) == [0, 1, 0, 0])
    #expect(r.timeline.map(\.devices) == [2, 1, 1, 1])
    #expect(r.timeline[0].p50 == 5)
    #expect(r.timeline[1].p99 == 40)
    #expect(r.timeline[1].max == 40)
    #expect(r.timeline[2].p50 == nil)
    #expect(r.timeline[3].p99 == nil)
    #expect(r.devices == 2)
    #expect(r.connections == 2)
    #expect(r.throughput.peakReadingsPerSecond == 20)
    #expect(r.throughput.readingsPerSecond == 8.57)  // 30 / 3.5 s
    #expect(r.readings.unanswered == 0)
  }

  @Test func lateEventGoesToTheCurrentSecond() {
    let recorder = FleetRecorder(startedAt: start)
    recorder.sent(readings: 1, at: at(2.5))
    // Read the clock before the other task closed second 1: counted in second 2, not lost or reopened.
    recorder.sent(readings: 1, at: at(1.9))
    let r = report(recorder, at: 3)
    #expect(r.timeline.map(\.readingsSent) == [0, 0, 2])
  }

  // MARK: Errors and refusals

  @Test func errorsAndRefusalsByKind() {
    let recorder = FleetRecorder(startedAt: start)
    recorder.sent(requests: 9, readings: 90, at: at(0.1))
    recorder.failed(kind: .network, readings: 10, at: at(0.2))
    recorder.failed(kind: .network, readings: 10, at: at(0.2))
    recorder.failed(kind: .backpressure, readings: 10, at: at(0.2))
    recorder.failed(kind: .http5xx, readings: 10, at: at(0.2))
    recorder.refused(readings: 10, reason: "wrong_serial", at: at(0.3))
    recorder.refused(readings: 4, reason: "erased", at: at(0.3))
    recorder.refused(readings: 6, reason: "erased", at: at(0.3))
    // A 202 with some records of erased customers refused: both calls for one request.
    recorder.acknowledged(readings: 7, latency: .milliseconds(3), at: at(0.4))
    recorder.refused(readings: 3, reason: "erased", at: at(0.4))
    let r = report(recorder, at: 1)

    #expect(r.errors == ["network": 2, "timeout": 0, "http_4xx": 0, "http_5xx": 1, "backpressure": 1])
    #expect(
      r.readings.failedByKind == ["network": 20, "timeout": 0, "http_4xx": 0, "http_5xx": 10, "backpressure": 10])
    #expect(r.readings.failed == 40)
    #expect(r.readings.refused == 23)
    #expect(r.readings.refusedByReason == ["wrong_serial": 10, "erased": 13])
    #expect(r.readings.acknowledged == 7)
    #expect(r.requests == .init(sent: 9, acknowledged: 1))
    // 90 sent = 7 acknowledged + 23 refused + 40 failed + 20 still in flight.
    #expect(r.readings.unanswered == 20)

    let text = r.text()
    #expect(text.contains("errors          network 2, timeout 0, http_4xx 0, http_5xx 1, backpressure 1"))
    #expect(text.contains("refused 23 (erased 13, wrong_serial 10)"))
    #expect(text.contains("unanswered 20"))
  }

  // MARK: Concurrency

  @Test func concurrentCallsLoseNoCount() async {
    let recorder = FleetRecorder()
    await withTaskGroup(of: Void.self) { group in
      for task in 0..<200 {
        group.addTask {
          recorder.deviceConnected()
          for call in 0..<1000 {
            recorder.sent(readings: 3)
            if call % 10 == 0 {
              recorder.failed(kind: FleetErrorKind.allCases[task % 5], readings: 3)
            } else if call % 10 == 1 {
              recorder.refused(readings: 3, reason: task % 2 == 0 ? "erased" : "wrong_serial")
            } else {
              recorder.acknowledged(readings: 3, latency: .microseconds(100 + call))
            }
            if call % 100 == 0 { _ = recorder.progress() }
          }
          recorder.deviceDisconnected()
        }
      }
    }
    recorder.finish()
    let r = recorder.report(scenario: "concurrent", target: "t", shard: "1/1", reconciliation: nil)
    #expect(r.requests.sent == 200_000)
    #expect(r.readings.sent == 600_000)
    #expect(r.requests.acknowledged == 160_000)
    #expect(r.readings.acknowledged == 480_000)
    #expect(r.latency.count == 160_000)
    #expect(r.readings.refused == 60_000)
    #expect(r.readings.refusedByReason == ["erased": 30_000, "wrong_serial": 30_000])
    #expect(r.readings.failed == 60_000)
    #expect(r.errors.values.reduce(0, +) == 20_000)
    #expect(r.errors["timeout"] == 4_000)
    #expect(r.readings.unanswered == 0)
    #expect(r.connections == 200)
    #expect(r.devices >= 1 && r.devices <= 200)
    // The timeline adds up to the totals.
    #expect(r.timeline.map(\.readingsSent).reduce(0, +) == 600_000)
    #expect(r.timeline.map(\.readingsAcknowledged).reduce(0, +) == 480_000)
    #expect(r.timeline.map(\.errors).reduce(0, +) == 20_000)
    #expect(r.timeline.last?.devices == 0)
  }

  // MARK: Progress

  @Test func progressLineRendersRatesSinceTheLastCall() {
    let recorder = FleetRecorder(startedAt: start)
    for _ in 0..<9_812 { recorder.deviceConnected(at: at(0.5)) }
    recorder.sent(readings: 194_800, at: at(1.0))
    recorder.acknowledged(readings: 194_700, latency: .milliseconds(18), at: at(1.5))
    let first = recorder.progress(at: at(2))
    #expect(first.devices == 9_812)
    #expect(first.readingsSentPerSecond == 97_400)
    #expect(first.readingsAcknowledgedPerSecond == 97_350)
    #expect(first.line == "   2.0 s  devices 9,812  sent 97,400/s  acked 97,350/s  p99 18 ms  errors none")

    recorder.sent(readings: 1_000, at: at(2.5))
    recorder.failed(kind: .network, readings: 1_000, at: at(3.5))
    recorder.refused(readings: 5, reason: "erased", at: at(3.6))
    let second = recorder.progress(at: at(12))
    #expect(second.readingsSentPerSecond == 100)
    #expect(second.readingsAcknowledgedPerSecond == 0)
    #expect(second.p99Milliseconds == nil)
    #expect(
      second.line == "  12.0 s  devices 9,812  sent 100/s  acked 0/s  p99 -  refused 5  "
        + "errors network 1, timeout 0, http_4xx 0, http_5xx 0, backpressure 0")
  }

  // MARK: JSON

  func sampleReport(scenario: String = "steady") -> FleetReport {
    let recorder = FleetRecorder(startedAt: start)
    for i in 0..<50 {
      let t = Double(i) * 0.1
      recorder.deviceConnected(at: at(t))
      recorder.sent(readings: 100, at: at(t))
      if i % 7 == 3 {
        recorder.failed(kind: .backpressure, readings: 100, at: at(t + 0.05))
      } else if i % 11 == 5 {
        recorder.refused(readings: 100, reason: "wrong_serial", at: at(t + 0.05))
      } else {
        recorder.acknowledged(readings: 100, latency: .microseconds(1_000 + 937 * i), at: at(t + 0.05))
      }
    }
    recorder.finish(at: at(5.2))
    let reconciliation = FleetReconciliation(
      readingsAcknowledged: 3_900, readingsLanded: 3_900, readingsRefused: 400, refusedByReason: ["wrong_serial": 400],
      missing: 0, unexpected: 0)
    return recorder.report(
      scenario: scenario, target: "http://127.0.0.1:8080", shard: "2/4", reconciliation: reconciliation, at: at(6))
  }

  @Test func jsonRoundTrips() throws {
    let r = sampleReport()
    let json = r.json()
    #expect(try FleetReport.decoder.decode(FleetReport.self, from: Data(json.utf8)) == r)
    #expect(try FleetReport(json: json) == r)
    // Sorted keys and a readable timestamp and URL.
    let keys = ["\"connections\"", "\"devices\"", "\"durationSeconds\"", "\"errors\"", "\"latency\""]
    let positions = keys.map { json.range(of: $0)!.lowerBound }
    #expect(positions == positions.sorted())
    #expect(json.contains("\"p999\""))
    #expect(json.contains("\"target\" : \"http://127.0.0.1:8080\""))
    #expect(json.range(of: #""startedAt" : "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ""#, options: .regularExpression) != nil)
    #expect(r.reconciliation?.balanced == true)
  }

  @Test func reconciliationBalance() {
    let balanced = FleetReconciliation(
      readingsAcknowledged: 10, readingsLanded: 10, readingsRefused: 3, refusedByReason: ["erased": 3], missing: 0,
      unexpected: 0)
    #expect(balanced.balanced)
    let missing = FleetReconciliation(
      readingsAcknowledged: 10, readingsLanded: 9, readingsRefused: 0, refusedByReason: [:], missing: 1,
      unexpected: 0)
    #expect(!missing.balanced)
    let unexpected = FleetReconciliation(
      readingsAcknowledged: 10, readingsLanded: 11, readingsRefused: 0, refusedByReason: [:], missing: 0,
      unexpected: 1)
    #expect(!unexpected.balanced)
    let unexplainedRefusal = FleetReconciliation(
      readingsAcknowledged: 10, readingsLanded: 10, readingsRefused: 4, refusedByReason: ["erased": 3], missing: 0,
      unexpected: 0)
    #expect(!unexplainedRefusal.balanced)

    var r = sampleReport()
    r.reconciliation = missing
    #expect(r.text().contains("missing 1, unexpected 0: NOT BALANCED"))
    #expect(r.html().contains("not balanced"))
  }

  // MARK: Text and HTML

  @Test func textSummary() {
    let text = sampleReport().text()
    #expect(text.hasPrefix("Fleet run \"steady\" against http://127.0.0.1:8080 (shard 2/4)\n"))
    #expect(text.contains("readings        sent 5,000, acknowledged 3,900, refused 400 (wrong_serial 400), failed 700"))
    #expect(text.contains("p99.9"))
    #expect(
      text.contains(
        "acknowledged 3,900, landed 3,900, refused 400 (wrong_serial 400), missing 0, unexpected 0: balanced"))
  }

  @Test func htmlIsSelfContainedAndEscaped() {
    let scenario = "<script>alert('x')</script> & \"quotes\""
    let r = sampleReport(scenario: scenario)
    var html = r.html()
    #expect(html.hasPrefix("<!DOCTYPE html>"))
    #expect(html.components(separatedBy: "<svg").count - 1 == 2)
    #expect(html.components(separatedBy: "</svg>").count - 1 == 2)
    #expect(!html.contains("<script"))
    #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"))
    // Both charts have a line per series, a legend and axis labels.
    #expect(html.contains("readings/s"))
    #expect(html.contains("seconds since start"))
    for name in ["sent", "acknowledged", "p50", "p99"] { #expect(html.contains("<title>\(name)</title></path>")) }
    #expect(html.contains("balanced"))
    // Nothing fetched from anywhere: the target URL appears as text only, nothing else names a URL.
    html = html.replacingOccurrences(of: "<code>http://127.0.0.1:8080</code>", with: "")
    for external in ["http://", "https://", "src=", "href=", "<link", "url(", "@import", "<iframe", "<object"] {
      #expect(!html.contains(external), "found \(external)")
    }
  }

  @Test func chartAxisSteps() {
    #expect(SVGLineChart.niceStep(97_400) == 20_000)
    #expect(SVGLineChart.niceStep(18) == 5)
    #expect(SVGLineChart.niceStep(3.5) == 1)
    #expect(SVGLineChart.niceStep(0.9) == 0.2)
    #expect(SVGLineChart.niceStep(0) == 1)
  }

  @Test func formatting() {
    #expect(ReportFormat.grouped(0) == "0")
    #expect(ReportFormat.grouped(999) == "999")
    #expect(ReportFormat.grouped(1_000) == "1,000")
    #expect(ReportFormat.grouped(-1_234_567) == "-1,234,567")
    #expect(ReportFormat.milliseconds(0.352) == "0.352")
    #expect(ReportFormat.milliseconds(4.2) == "4.2")
    #expect(ReportFormat.milliseconds(18.43) == "18.4")
    #expect(ReportFormat.milliseconds(1_024.4) == "1,024")
  }
}
