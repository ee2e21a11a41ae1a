"""Benchmarks/fleet: how large a fleet `stedi fleet run` holds in real time next to `stedi serve` on
this machine, and how much load it makes per core of load generator next to Locust. See README.md.

Part "scale": for each size N (customers: N Step Trainers + N phones at 10 Hz, 50 readings per
request, real-time pacing) a fresh lake and a fresh `stedi serve --batch-max-age 1`, then
`stedi fleet run --lake` on a scenario written here; the fleet's peak RSS (ru_maxrss from
wait4, and VmRSS sampled), CPU, its report (timeline per second, latency, reconciliation) and
the service's acknowledged counter sampled from /metrics. A size keeps up when, by the end,
>= 99% of the planned readings were acknowledged, the steady part of the run (every device
sending) acknowledged >= 97% of the planned rate, the acknowledged readings never fell more
than --max-lag seconds behind the plan, the reconciliation balanced and the fleet exited 0.
Sizes run upward and stop after the first that does not keep up (--keep-going runs them all).

Part "locust": the service pinned to one CPU, the load generator to the other; in each round,
one after the other (order alternating), `stedi fleet run` on an asap scenario (U Step Trainers
posting 50-reading batches back to back over U connections) and Locust (one process,
FastHttpUser, U users, no wait, the same batch shape: locustfile.py), each against its own fresh
`stedi serve`. Requests and readings acknowledged per second (the service's own counter over the
steady window, and the generators' own counts), the load generator's CPU, and so requests and
readings per CPU-second of load generator ("per core"); the ratio stedi fleet / Locust.

Usage (run.sh passes these): compare.py --stedi PATH --locust PATH --work DIR --out FILE [...]
"""

import argparse
import bisect
import json
import os
import shutil
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import benchlib  # noqa: E402
import benchhttp  # noqa: E402
import benchproc  # noqa: E402
from benchhttp import pin  # noqa: E402
from benchlib import fmt  # noqa: E402

PATH = "/v1/step-trainer/readings"
MIB = 1024 * 1024
GIB_KIB = 1024 * 1024


# ------------------------------------------------------------ processes --

def start_service(args, lake, prefix, cpu):
    """`stedi serve` on a fresh lake, once it listens and answers /healthz."""
    shutil.rmtree(lake, ignore_errors=True)
    os.makedirs(lake)
    argv = pin(cpu) + [args.stedi, "serve", "--lake", lake, "--port", "0",
                       "--batch-max-age", str(args.batch_max_age)] + args.serve_flags
    service = benchhttp.Service("stedi serve", argv, prefix + ".serve")
    return service.wait_ready(timeout=60, healthz_timeout=30)


def acknowledged(service):
    """Readings acknowledged so far (step trainer + accelerometer), from /metrics; None if unreadable."""
    return benchhttp.acknowledged_readings(service.url(), ("step_trainer", "accelerometer"), timeout=5)


def run_sampled(argv, prefix, env, service, interval):
    """Runs a load generator as a child (stdout/stderr to <prefix>.out/.err) while sampling, every
    `interval` s, its CPU and RSS, the service's CPU and acknowledged counter, and the machine's
    busy CPU. Returns (exit code, wall s, CPU s and peak RSS KiB from wait4, samples)."""
    samples = []

    def watch(proc, t0):
        done = threading.Event()

        def sample():
            while True:
                busy, _ = benchproc.machine_cpu_seconds()
                samples.append({
                    "t": round(time.perf_counter() - t0, 3),
                    "cpu": benchproc.proc_cpu(proc.pid), "rssKiB": benchproc.status_kib(proc.pid, "VmRSS"),
                    "serviceCpu": benchproc.proc_cpu(service.proc.pid),
                    "serviceRssKiB": benchproc.status_kib(service.proc.pid, "VmRSS"),
                    "acked": acknowledged(service), "machineBusy": busy,
                })
                if done.wait(interval):
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        return lambda: (done.set(), sampler.join())

    child = benchlib.run_child(argv, prefix, env=env, watch=watch)
    return child.code, child.wall, child.cpu, child.rss_kib, samples


def window_rates(samples, start, end):
    """Over the samples with start <= t <= end: seconds, readings acknowledged per second by the
    service, load-generator cores, service cores, machine cores; None when fewer than 2 samples."""
    inside = [s for s in samples if start <= s["t"] <= end and s["cpu"] is not None and s["acked"] is not None
              and s["serviceCpu"] is not None]
    if len(inside) < 2:
        return None
    a, b = inside[0], inside[-1]
    dt = b["t"] - a["t"]
    return {"from": a["t"], "to": b["t"], "seconds": round(dt, 2),
            "ackedPerSecond": (b["acked"] - a["acked"]) / dt,
            "generatorCores": (b["cpu"] - a["cpu"]) / dt,
            "serviceCores": (b["serviceCpu"] - a["serviceCpu"]) / dt,
            "machineCores": (b["machineBusy"] - a["machineBusy"]) / dt}


def landed_lines(lake, folders=("step_trainer/landing", "accelerometer/landing")):
    """(NDJSON lines under the landing folders, files, leftover hidden temp files, bytes)."""
    return benchhttp.landed_lines(lake, folders)


def scenario_yaml(name, customers, seconds, ramp, pacing, batch, hz, phones):
    return (f"# Written by Benchmarks/fleet/compare.py.\nname: {name}\nseed: 1\ncustomers: {customers}\n"
            f"consentShare: 0.7\nphones: {'true' if phones else 'false'}\nstepTrainerHz: {hz:g}\nphoneHz: {hz:g}\n"
            f"sessionSeconds: 300\ndurationSeconds: {seconds:g}\nrampUpSeconds: {ramp:g}\npacing: {pacing}\n"
            f"batchReadings: {batch}\n")


# ------------------------------------------------------------------ scale --

def planned_sends(devices, seconds, ramp, batch, hz):
    """Sorted instants (s after the fleet's start) at which the plan has a batch due, as
    SimulatedDevice and FleetRunner schedule them: device k starts at ramp*k/(devices-1) and
    sends batch j (1-based) at start + j*batch/hz, for j up to floor(seconds*hz) // batch."""
    per_batch = batch / hz
    batches = max(1, int(seconds * hz) // batch)
    times = []
    for k in range(devices):
        start = ramp * k / (devices - 1) if devices > 1 else 0.0
        times.extend(start + j * per_batch for j in range(1, batches + 1))
    times.sort()
    return times, batches


def analyse_scale(report, customers, args):
    """Keep-up figures from the fleet's report: its timeline against the plan."""
    devices = 2 * customers
    hz, batch, seconds, ramp = args.hz, args.batch, args.seconds, args.ramp
    sends, batches = planned_sends(devices, seconds, ramp, batch, hz)
    planned = len(sends) * batch
    planned_rate = devices * hz
    timeline = report["timeline"]
    # The fleet's start within its timeline: the first second with a device connected, refined by
    # how many had connected by its end (they start evenly over the ramp-up).
    first = next((p for p in timeline if p["devices"] > 0), None)
    if first is None:
        return {"planned": planned, "plannedPerSecond": planned_rate, "problems": ["no device ever connected"]}
    t0 = float(first["t"])
    if ramp > 0 and devices > 1:
        started = min(first["devices"], devices)
        t0 = min(max(first["t"] + 1 - (started - 1) * ramp / (devices - 1), float(first["t"])), first["t"] + 1.0)
    # Steady: every device started and sending, before the first ones stop.
    steady_from, steady_to = t0 + ramp + batch / hz, t0 + seconds
    steady = [p for p in timeline if p["seconds"] == 1 and p["t"] >= steady_from and p["t"] + 1 <= steady_to]
    acked_steady = [p["readingsAcknowledged"] for p in steady]
    # How far behind the plan the acknowledged readings were at the end of each second.
    cumulative, max_lag, lag_at = 0, 0.0, None
    for p in timeline:
        cumulative += p["readingsAcknowledged"]
        end = p["t"] + p["seconds"] - t0
        due = bisect.bisect_right(sends, end)
        done = cumulative // batch
        if done < due:
            lag = end - sends[done]
            if lag > max_lag:
                max_lag, lag_at = lag, p["t"]
    load_end = t0 + ramp + seconds
    last_ack = max((p["t"] + p["seconds"] for p in timeline if p["readingsAcknowledged"] > 0), default=0)
    acked = report["readings"]["acknowledged"]
    out = {
        "devices": devices, "batchesPerDevice": batches, "planned": planned, "plannedPerSecond": planned_rate,
        "fleetStartInTimeline": round(t0, 2), "steadySeconds": len(steady),
        "steadyMeanAckedPerSecond": round(statistics.mean(acked_steady)) if acked_steady else None,
        "steadyMinAckedPerSecond": min(acked_steady) if acked_steady else None,
        "steadyMaxAckedPerSecond": max(acked_steady) if acked_steady else None,
        "acknowledged": acked, "acknowledgedShare": round(acked / planned, 4) if planned else None,
        "maxLagSeconds": round(max_lag, 2), "maxLagAtSecond": lag_at,
        "lastAckAfterPlannedEndSeconds": round(last_ack - load_end, 2),
        "latencyMs": report["latency"], "errors": report["errors"],
        "readingsFailed": report["readings"]["failed"],
        "reconciliation": report.get("reconciliation"),
    }
    reasons = []
    if out["acknowledgedShare"] is None or out["acknowledgedShare"] < 0.99:
        reasons.append(f"acknowledged {acked:,} of {planned:,} planned ({out['acknowledgedShare']:.1%})")
    if not acked_steady:
        reasons.append("no steady second in the timeline")
    elif out["steadyMeanAckedPerSecond"] < 0.97 * planned_rate:
        reasons.append(f"steady {out['steadyMeanAckedPerSecond']:,} readings/s < 97% of {planned_rate:,}")
    if max_lag > args.max_lag:
        reasons.append(f"fell {max_lag:.1f} s behind the plan (second {lag_at})")
    recon = report.get("reconciliation")
    if not recon or not recon.get("balanced"):
        reasons.append("reconciliation " + ("missing" if not recon else
                                           f"not balanced (acked {recon['readingsAcknowledged']:,}, landed "
                                           f"{recon['readingsLanded']:,})"))
    out["keepsUpReasons"] = reasons
    return out


def run_scale(customers, args):
    name = f"scale-{customers}"
    prefix = os.path.join(args.work, "logs", name)
    lake = os.path.join(args.work, "lakes", name)
    scenario = os.path.join(args.work, "scenarios", name + ".yaml")
    with open(scenario, "w") as f:
        f.write(scenario_yaml(f"fleet-bench-{name}", customers, args.seconds, args.ramp, "realtime", args.batch,
                              args.hz, True))
    report_path = prefix + ".report.json"
    if os.path.exists(report_path):
        os.remove(report_path)
    cpus = (args.service_cpu, args.generator_cpu) if args.scale_placement == "pinned" else (None, None)
    service = start_service(args, lake, prefix, cpus[0])
    try:
        argv = pin(cpus[1]) + [args.stedi, "fleet", "run", "--scenario", scenario, "--target", service.url(),
                               "--lake", lake, "--run-id", f"{customers:08x}", "--report-json", report_path, "--quiet",
                               "--connections", str(args.scale_connections)]
        benchlib.log(f"   {' '.join(argv)}")
        code, wall, cpu, maxrss, samples = run_sampled(argv, prefix + ".fleet", dict(os.environ), service,
                                                       args.sample_interval)
        service_acked = benchhttp.settled(lambda: acknowledged(service))
        service_code, stop_seconds, service_cpu, service_rss = service.stop(poll=0.05)
    finally:
        service.kill()
    lines, files, temps, size = landed_lines(lake)
    if not args.keep_lakes:
        shutil.rmtree(lake, ignore_errors=True)
    result = {"customers": customers, "devices": 2 * customers, "scenario": scenario, "command": argv,
              "serveCommand": service.argv, "exitCode": code, "wallSeconds": round(wall, 2),
              "fleetCpuSeconds": round(cpu, 2), "fleetPeakRssMiB": round(maxrss / 1024, 1),
              "fleetSampledPeakRssMiB": round(max((s["rssKiB"] or 0) for s in samples) / 1024, 1) if samples else None,
              "serviceCpuSeconds": round(service_cpu, 2), "servicePeakRssMiB": round(service_rss / 1024, 1),
              "serviceExitCode": service_code, "serviceAcknowledged": service_acked,
              "landedLines": lines, "landingFiles": files, "leftoverTempFiles": temps}
    problems = []
    try:
        with open(report_path) as f:
            report = json.load(f)
    except (OSError, ValueError):
        report = None
        problems.append(f"no report (fleet exit {code}); see {prefix}.fleet.err")
    with open(prefix + ".fleet.out", errors="replace") as f:
        result["summaryText"] = f.read()
    if report:
        result.update(analyse_scale(report, customers, args))
        result["timeline"] = [{k: p.get(k) for k in ("t", "seconds", "devices", "readingsSent", "readingsAcknowledged",
                                                     "errors", "p99")} for p in report["timeline"]]
        result["throughput"] = report["throughput"]
        # The load phase on the sampler's clock: from the service's first acknowledged reading (the
        # first batch is due one batch period after the fleet's start) for ramp + duration seconds.
        first = next((s["t"] for s in samples if s["acked"]), None)  # readings only: customers are not counted
        if first is not None:
            fleet_start = first - args.batch / args.hz
            steady = window_rates(samples, fleet_start + args.ramp + args.batch / args.hz, fleet_start + args.seconds)
            load = window_rates(samples, fleet_start, fleet_start + args.ramp + args.seconds)
            result["steadyWindow"] = {k: round(v, 2) for k, v in steady.items()} if steady else None
            result["loadWindow"] = {k: round(v, 2) for k, v in load.items()} if load else None
            in_load = [s for s in samples if fleet_start <= s["t"] <= fleet_start + args.ramp + args.seconds]
            result["fleetRssAtLoadEndMiB"] = round(max((s["rssKiB"] or 0) for s in in_load) / 1024, 1) if in_load else None
        if code != 0:
            problems.append(f"fleet exit code {code}")
        problems.extend(result.pop("keepsUpReasons"))
    if result["fleetPeakRssMiB"] >= 1024:
        result["over1GiB"] = True
    result["keepsUp"] = not problems
    result["problems"] = problems
    result["samples"] = samples
    return result


# ----------------------------------------------------------------- locust --

def issue_tokens(args, users):
    """[serial, token] for each Locust user, from `stedi token issue` (STEDI_TOKEN_KEY is set)."""
    lake = os.path.join(args.work, "lakes", "tokens")
    os.makedirs(lake, exist_ok=True)
    tokens = []
    for i in range(users):
        serial = f"0c057000-0000-4000-8000-{i:012x}"  # a UUID, as long as the fleet's serial numbers
        tokens.append([serial, benchhttp.issue_token(args.stedi, lake, serial)])
    path = os.path.join(args.work, "locust-tokens.json")
    with open(path, "w") as f:
        json.dump(tokens, f)
    return path


def asap_scenario(args, seconds_of_readings, tag):
    path = os.path.join(args.work, "scenarios", f"asap-{tag}.yaml")
    with open(path, "w") as f:
        f.write(scenario_yaml(f"fleet-bench-asap-{tag}", args.users, seconds_of_readings, 0, "asap", args.batch,
                              args.hz, False))
    return path


def locust_summary(text):
    """Locust's own final figures from the summary it prints at exit (its stderr): {requests, failures,
    requestsPerSecond, p50Ms, p99Ms}, or None. (Its --csv file can miss the last second's requests.)"""
    rows = [line for line in text.splitlines() if line.split() and line.split()[0] == "Aggregated"]
    if len(rows) < 2:
        return None
    try:
        counts, _, rates = rows[0].split("|")[:3]
        requests, failures = counts.split()[1], counts.split()[2].split("(")[0]
        percentiles = rows[1].split()[1:]
        return {"requests": int(requests), "failures": int(failures), "requestsPerSecond": float(rates.split()[0]),
                "p50Ms": float(percentiles[0]), "p99Ms": float(percentiles[7])}
    except (ValueError, IndexError):
        return None


def run_id(round_index):
    """`stedi fleet run --run-id` (8 lower-case hex digits) of a round of the locust part."""
    return "0000ca1b" if round_index == "calibration" else f"{0xa0000000 + round_index:08x}"


def run_generator(name, args, round_index, extra):
    """One load generator against a fresh `stedi serve`, both pinned; the measured figures."""
    prefix = os.path.join(args.work, "logs", f"{name}-{round_index}")
    lake = os.path.join(args.work, "lakes", f"{name}-{round_index}")
    pinned = args.placement == "pinned"
    service = start_service(args, lake, prefix, args.service_cpu if pinned else None)
    gen_cpu = args.generator_cpu if pinned else None
    env = dict(os.environ)
    try:
        if name == "fleet":
            report_path = prefix + ".report.json"
            argv = pin(gen_cpu) + [args.stedi, "fleet", "run", "--scenario", extra["scenario"], "--target", service.url(),
                                   "--report-json", report_path, "--quiet", "--connections", str(args.users),
                                   "--run-id", run_id(round_index)]
        else:
            csv_prefix = prefix + ".locust"
            env.update({"FLEET_BENCH_TOKENS": extra["tokens"], "FLEET_BENCH_BATCH": str(args.batch)})
            argv = pin(gen_cpu) + [args.locust, "-f", os.path.join(HERE, "locustfile.py"), "--headless",
                                   "-u", str(args.users), "-r", str(args.users), "-t", f"{args.locust_seconds}s",
                                   "--host", service.url(), "--csv", csv_prefix, "--only-summary",
                                   "--loglevel", "WARNING"]
        benchlib.log(f"   {' '.join(argv)}")
        code, wall, cpu, maxrss, samples = run_sampled(argv, prefix + f".{name}", env, service, args.sample_interval)
        service_acked = benchhttp.settled(lambda: acknowledged(service))
        service_code, _, service_cpu, _ = service.stop(poll=0.05)
    finally:
        service.kill()
    lines, files, temps, size = landed_lines(lake, ("step_trainer/landing",))
    if not args.keep_lakes:
        shutil.rmtree(lake, ignore_errors=True)
    # Steady window: from 2 s after the service acknowledged the first reading to 1 s before the last.
    moving = [s for i, s in enumerate(samples[1:], 1)
              if s["acked"] is not None and samples[i - 1]["acked"] is not None and s["acked"] > samples[i - 1]["acked"]]
    result = {"generator": name, "round": round_index, "command": argv, "serveCommand": service.argv,
              "exitCode": code, "wallSeconds": round(wall, 2), "generatorCpuSeconds": round(cpu, 2),
              "generatorPeakRssMiB": round(maxrss / 1024, 1), "serviceCpuSeconds": round(service_cpu, 2),
              "serviceExitCode": service_code, "serviceAcknowledged": service_acked,
              "landedLines": lines, "landingFiles": files, "leftoverTempFiles": temps,
              "landedBytesPerReading": round(size / lines, 1) if lines else None}
    problems = []
    window = None
    if moving:
        first_ack = next(samples[i - 1]["t"] for i in range(1, len(samples))
                         if samples[i]["acked"] is not None and samples[i - 1]["acked"] is not None
                         and samples[i]["acked"] > samples[i - 1]["acked"])
        window = window_rates(samples, first_ack + args.skip_start, moving[-1]["t"] - args.skip_end)
    if window is None:
        problems.append("no steady window (the service acknowledged nothing for long enough)")
    else:
        window = {k: round(v, 3) for k, v in window.items()}
        window["requestsPerSecond"] = round(window["ackedPerSecond"] / args.batch, 1)
        window["readingsPerSecond"] = round(window["ackedPerSecond"])
        cores = window["generatorCores"]
        window["requestsPerGeneratorCpuSecond"] = round(window["requestsPerSecond"] / cores, 1) if cores > 0 else None
        window["readingsPerGeneratorCpuSecond"] = round(window["readingsPerSecond"] / cores) if cores > 0 else None
    result["steadyWindow"] = window
    if name == "fleet":
        try:
            with open(prefix + ".report.json") as f:
                report = json.load(f)
        except (OSError, ValueError):
            report = None
            problems.append(f"no fleet report (exit {code}); see {prefix}.fleet.err")
        if report:
            result["own"] = {"requests": report["requests"]["acknowledged"],
                             "readings": report["readings"]["acknowledged"],
                             "failedRequests": sum(report["errors"].values()),
                             "seconds": report["durationSeconds"],
                             "requestsPerSecond": report["throughput"]["requestsPerSecond"],
                             "p50Ms": report["latency"]["p50"], "p99Ms": report["latency"]["p99"]}
            # Readings of the fleet's own run (its customers are registered through another endpoint).
            if report["readings"]["acknowledged"] != lines:
                problems.append(f"fleet acknowledged {report['readings']['acknowledged']:,}, landed {lines:,}")
    else:
        with open(prefix + ".locust.err", errors="replace") as f:
            err = f.read()
        own = locust_summary(err)
        if own is None:
            problems.append(f"no Locust summary (exit {code}); see {prefix}.locust.err")
        else:
            ok = own["requests"] - own["failures"]
            result["own"] = {"requests": ok, "readings": ok * args.batch, "failedRequests": own["failures"],
                             "seconds": args.locust_seconds, "requestsPerSecond": own["requestsPerSecond"],
                             "p50Ms": own["p50Ms"], "p99Ms": own["p99Ms"]}
            if ok * args.batch > lines:
                problems.append(f"Locust counted {ok * args.batch:,} readings acknowledged, landed {lines:,}")
        result["locustCpuWarning"] = "CPU usage above" in err or "CPU usage was too high" in err
    # The counter covers readings only (the fleet's customers go to /v1/customers).
    if service_acked is not None and service_acked != lines:
        problems.append(f"service acknowledged {service_acked:,} readings, landed {lines:,}")
    if code != 0:
        problems.append(f"{name} exit code {code}")
    if service_code != 0:
        problems.append(f"stedi serve exit code {service_code}")
    if temps:
        problems.append(f"{temps} temp file(s) left in landing")
    result["problems"] = problems
    result["samples"] = samples
    return result


def calibrate(args):
    """A short asap fleet run on its own service, to size the measured runs to --locust-seconds."""
    probe_seconds = 2000.0  # 400 batches of 50 per device: a few seconds
    scenario = asap_scenario(args, probe_seconds, "calibration")
    result = run_generator("fleet", args, "calibration", {"scenario": scenario})
    rate = (result.get("own") or {}).get("requestsPerSecond") or 0
    problems = [p for p in result["problems"] if not p.startswith("no steady window")]
    if problems or rate <= 0:
        raise RuntimeError("calibration run failed: " + "; ".join(problems or ["no requests acknowledged"]))
    per_batch = args.batch / args.hz
    total_requests = rate * args.locust_seconds
    seconds = max(per_batch, round(total_requests / args.users) * per_batch)
    return seconds, rate, result


# ------------------------------------------------------------------ output --

def scale_table(runs, args):
    lines = [f"Scale: stedi fleet run, real time, N Step Trainers + N phones at {args.hz:g} Hz, {args.batch} readings "
             f"per request, {args.seconds:g} s after a {args.ramp:g} s ramp-up; stedi serve --batch-max-age "
             f"{args.batch_max_age:g} on the same host ({args.scale_placement_note})",
             ""]
    rows = []
    for r in runs:
        lat = r.get("latencyMs") or {}
        steady = r.get("steadyWindow") or {}
        recon = r.get("reconciliation") or {}
        errors = sum((r.get("errors") or {}).values())
        rows.append([
            f"{r['customers']:,}", f"{r['devices']:,}", fmt(r.get("plannedPerSecond")),
            f"{fmt(r.get('steadyMeanAckedPerSecond'))} ({fmt(r.get('steadyMinAckedPerSecond'))})",
            f"{(r.get('acknowledgedShare') or 0):.2%}", fmt(r.get("maxLagSeconds"), 2),
            f"{fmt(lat.get('p50'), 1)} / {fmt(lat.get('p99'), 1)}", f"{errors:,}", f"{r['fleetPeakRssMiB']:,.0f}",
            fmt(steady.get("generatorCores"), 2), fmt(steady.get("serviceCores"), 2),
            "yes" if recon.get("balanced") else "NO", "yes" if r["keepsUp"] else "NO"])
    lines += benchlib.markdown_table(
        [("customers", "r"), ("devices", "r"), ("planned readings/s", "r"), ("acked/s steady mean (min)", "l"),
         ("acked / planned", "r"), ("max lag s", "r"), ("p50 / p99 ms", "l"), ("errors", "r"),
         ("fleet peak RSS MiB", "r"), ("fleet cores", "r"), ("serve cores", "r"), ("balanced", "l"),
         ("keeps up", "l")], rows)
    for r in runs:
        if r["problems"]:
            lines.append(f"  {r['customers']:,} customers: " + "; ".join(r["problems"]))
    kept = [r for r in runs if r["keepsUp"]]
    # The largest size below which every size kept up (sizes run in increasing order).
    largest = None
    for r in runs:
        if not r["keepsUp"]:
            break
        largest = r
    lines.append("")
    if largest:
        lines.append(f"Largest fleet that kept up: {largest['customers']:,} customers = {largest['devices']:,} devices "
                     f"({largest['plannedPerSecond']:,} readings/s), fleet peak RSS {largest['fleetPeakRssMiB']:,.0f} MiB")
    else:
        lines.append("No size kept up.")
    if kept and largest and kept[-1] is not largest:
        lines.append(f"(a larger size also kept up after one that did not: {kept[-1]['customers']:,} customers)")
    at10k = next((r for r in runs if r["devices"] == 10_000), None)
    if at10k:
        lines.append(f"At 10,000 devices ({at10k['customers']:,} customers): fleet peak RSS "
                     f"{at10k['fleetPeakRssMiB']:,.0f} MiB ({'under' if at10k['fleetPeakRssMiB'] < 1024 else 'NOT under'}"
                     f" 1 GiB), keeps up: {'yes' if at10k['keepsUp'] else 'NO'}")
    return "\n".join(lines), (largest["customers"] if largest else None)


def locust_table(runs, args, calibration):
    lines = [f"Side by side: {args.users} concurrent Step Trainers posting {args.batch}-reading NDJSON batches back to "
             f"back to {PATH}, each generator against a fresh stedi serve; {args.placement_note}. "
             f"Figures over the steady window (the service's acknowledged counter)",
             ""]
    label = {"fleet": "stedi fleet run", "locust": "Locust FastHttpUser"}
    rows = []
    for r in runs:
        w = r.get("steadyWindow") or {}
        own = r.get("own") or {}
        rows.append([
            label[r["generator"]], r["round"] + 1, fmt(w.get("requestsPerSecond")), fmt(w.get("readingsPerSecond")),
            fmt(w.get("generatorCores"), 2), fmt(w.get("requestsPerGeneratorCpuSecond")),
            fmt(w.get("readingsPerGeneratorCpuSecond")), f"{fmt(own.get('p50Ms'), 1)} / {fmt(own.get('p99Ms'), 1)}",
            fmt(w.get("serviceCores"), 2), fmt(own.get("failedRequests")), fmt(r.get("landedBytesPerReading"), 1),
            "yes" if not r["problems"] else "NO"])
    lines += benchlib.markdown_table(
        [("generator", "l"), ("round", "r"), ("requests/s", "r"), ("readings/s", "r"), ("generator cores", "r"),
         ("requests per generator CPU-s", "r"), ("readings per generator CPU-s", "r"), ("own p50 / p99 ms", "l"),
         ("serve cores", "r"), ("failed", "r"), ("bytes/reading", "r"), ("acked = landed", "l")], rows)
    for r in runs:
        if r["problems"]:
            lines.append(f"  {r['generator']} round {r['round'] + 1}: " + "; ".join(r["problems"]))
    summary = {}
    for name in ("fleet", "locust"):
        mine = [r["steadyWindow"] for r in runs if r["generator"] == name and r.get("steadyWindow")]
        if mine:
            summary[name] = {k: statistics.median(w[k] for w in mine if w[k] is not None) for k in (
                "requestsPerSecond", "readingsPerSecond", "generatorCores", "requestsPerGeneratorCpuSecond",
                "readingsPerGeneratorCpuSecond", "serviceCores")}
            summary[name]["runs"] = len(mine)
    ratios = None
    if "fleet" in summary and "locust" in summary:
        a, b = summary["fleet"], summary["locust"]
        ratios = {"requestsPerSecond": round(a["requestsPerSecond"] / b["requestsPerSecond"], 2),
                  "requestsPerGeneratorCpuSecond": round(a["requestsPerGeneratorCpuSecond"] /
                                                         b["requestsPerGeneratorCpuSecond"], 2)}
        lines.append("")
        lines.append("Medians: " + "; ".join(
            f"{label[n]} {summary[n]['requestsPerSecond']:,.0f} requests/s ({summary[n]['readingsPerSecond']:,.0f} "
            f"readings/s) on {summary[n]['generatorCores']:.2f} cores = {summary[n]['requestsPerGeneratorCpuSecond']:,.0f}"
            f" requests ({summary[n]['readingsPerGeneratorCpuSecond']:,.0f} readings) per generator CPU-second"
            for n in ("fleet", "locust")))
        lines.append(f"Ratio stedi fleet / Locust: {ratios['requestsPerGeneratorCpuSecond']:.2f}x the requests (and "
                     f"readings) per core of load generator; {ratios['requestsPerSecond']:.2f}x the requests per second")
    if calibration:
        lines.append(f"(stedi fleet's asap scenario sends {calibration['secondsOfReadings']:g} s of 10 Hz readings per "
                     f"device, sized by a calibration run at {calibration['requestsPerSecond']:,.0f} requests/s to last "
                     f"about {args.locust_seconds} s; Locust runs -t {args.locust_seconds}s)")
    return "\n".join(lines), summary, ratios


# -------------------------------------------------------------------- main --

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stedi", required=True)
    p.add_argument("--locust", help="the locust executable (for --parts locust)")
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--parts", default="scale,locust")
    p.add_argument("--customers", default="1250,2500,5000,7500,10000,12500",
                   help="scale: fleet sizes in customers (each a Step Trainer and a phone), run in this order")
    p.add_argument("--keep-going", action="store_true", help="scale: run every size, not stop at the first miss")
    p.add_argument("--seconds", type=float, default=30, help="scale: durationSeconds of the scenario")
    p.add_argument("--ramp", type=float, default=5, help="scale: rampUpSeconds")
    p.add_argument("--hz", type=float, default=10)
    p.add_argument("--batch", type=int, default=50, help="readings per request")
    p.add_argument("--max-lag", type=float, default=2.0, help="scale: most seconds behind the plan that still keeps up")
    p.add_argument("--scale-placement", choices=("shared", "pinned"), default="shared")
    p.add_argument("--scale-connections", type=int, default=64, help="scale: stedi fleet run --connections")
    p.add_argument("--users", type=int, default=64, help="locust part: concurrent users = devices = connections")
    p.add_argument("--locust-seconds", type=int, default=30)
    p.add_argument("--repeats", type=int, default=2, help="locust part: rounds (each runs both generators)")
    p.add_argument("--placement", choices=("pinned", "shared"), default="pinned", help="locust part")
    p.add_argument("--skip-start", type=float, default=2.0, help="locust part: seconds left out of the steady window")
    p.add_argument("--skip-end", type=float, default=1.0)
    p.add_argument("--batch-max-age", type=float, default=1.0, help="stedi serve --batch-max-age")
    p.add_argument("--serve-flag", action="append", default=[], dest="serve_flags",
                   help="another flag for stedi serve (repeat; e.g. --serve-flag=--wal --serve-flag=/path)")
    p.add_argument("--sample-interval", type=float, default=0.5)
    p.add_argument("--wait-idle", type=float, default=30, help="seconds to wait for a quiet machine before each run")
    p.add_argument("--keep-lakes", action="store_true")
    args = p.parse_args()
    parts = benchlib.parse_names(args.parts, ("scale", "locust"), unique=True)
    if parts is None:
        raise SystemExit("--parts takes scale and/or locust")
    if benchlib.stedi_missing(args.stedi):
        return 2
    if "locust" in parts and not (args.locust and os.access(args.locust, os.X_OK)):
        raise SystemExit("--locust PATH (an executable) is needed for the locust part")
    if len(os.environ.get("STEDI_TOKEN_KEY", "")) < 32:
        raise SystemExit("STEDI_TOKEN_KEY must be set (32 bytes or more); run.sh sets one")
    cpus = os.cpu_count() or 1
    args.service_cpu, args.generator_cpu = cpus - 1, 0
    if cpus < 2:
        args.placement = args.scale_placement = "shared"
    args.placement_note = (f"stedi serve pinned to CPU {args.service_cpu}, the load generator to CPU "
                           f"{args.generator_cpu} (taskset)" if args.placement == "pinned" else
                           f"both unpinned on {cpus} CPUs")
    args.scale_placement_note = (f"serve on CPU {args.service_cpu}, fleet on CPU {args.generator_cpu}"
                                 if args.scale_placement == "pinned" else f"both unpinned on {cpus} CPUs")
    for sub in ("logs", "lakes", "scenarios"):
        os.makedirs(os.path.join(args.work, sub), exist_ok=True)
    busy = benchlib.busy_before_runs(" (another engineer compiling?)")
    result = {"finished": None, "machine": benchlib.machine_info(busy),
              "settings": {k: v for k, v in vars(args).items() if k not in ("stedi", "locust")},
              "stediExecutable": args.stedi, "locustExecutable": args.locust}
    text = []
    failed = False

    if "scale" in parts:
        sizes = [int(x) for x in args.customers.split(",") if x.strip()]
        runs = []
        for customers in sizes:
            before = benchlib.wait_idle(args.wait_idle, then=1.0)
            benchlib.log(f"== scale: {customers:,} customers = {2 * customers:,} devices" + benchlib.busy_note(before))
            try:
                r = run_scale(customers, args)
            except Exception as error:  # noqa: BLE001
                benchlib.log(f"error: scale {customers}: {error}")
                failed = True
                break
            r["cpuBusyBefore"] = before
            runs.append(r)
            steady = r.get("steadyWindow") or {}
            lat = r.get("latencyMs") or {}
            benchlib.log(
                f"   acked {r.get('acknowledged', 0):,} of {r.get('planned', 0):,} planned, steady "
                f"{fmt(r.get('steadyMeanAckedPerSecond'))}/s of {fmt(r.get('plannedPerSecond'))}/s (min "
                f"{fmt(r.get('steadyMinAckedPerSecond'))}), max lag {r.get('maxLagSeconds')} s, p99 {lat.get('p99')} ms, "
                f"fleet RSS {r['fleetPeakRssMiB']} MiB, fleet {fmt(steady.get('generatorCores'), 2)} cores, serve "
                f"{fmt(steady.get('serviceCores'), 2)} cores, machine {fmt(steady.get('machineCores'), 2)} -> "
                + ("keeps up" if r["keepsUp"] else "DOES NOT keep up: " + "; ".join(r["problems"])))
            if not r["keepsUp"] and not args.keep_going:
                break
        table, largest = scale_table(runs, args)
        text.append(table)
        result["scale"] = {"runs": runs, "largestCustomersKeepingUp": largest,
                           "largestDevicesKeepingUp": 2 * largest if largest else None}

    if "locust" in parts:
        try:
            tokens = issue_tokens(args, args.users)
            before = benchlib.wait_idle(args.wait_idle, then=1.0)
            benchlib.log(f"== locust part: calibrating the fleet's asap run ({args.users} devices)"
                         + benchlib.busy_note(before))
            seconds, rate, probe = calibrate(args)
            calibration = {"secondsOfReadings": seconds, "requestsPerSecond": rate, "run": probe}
            scenario = asap_scenario(args, seconds, "measured")
            runs = []
            for i, name, before in benchlib.rounds_when_idle(["fleet", "locust"], args.repeats, args.wait_idle,
                                                             then=1.0):
                r = run_generator(name, args, i, {"scenario": scenario, "tokens": tokens})
                r["cpuBusyBefore"] = before
                runs.append(r)
                w = r.get("steadyWindow") or {}
                benchlib.log(f"   {fmt(w.get('requestsPerSecond'))} requests/s, {fmt(w.get('readingsPerSecond'))} "
                             f"readings/s, generator {fmt(w.get('generatorCores'), 2)} cores -> "
                             f"{fmt(w.get('requestsPerGeneratorCpuSecond'))} requests per generator CPU-s, serve "
                             f"{fmt(w.get('serviceCores'), 2)} cores, machine {fmt(w.get('machineCores'), 2)}"
                             + (f"  PROBLEMS: {'; '.join(r['problems'])}" if r["problems"] else ""))
            table, summary, ratios = locust_table(runs, args, calibration)
            text.append(table)
            result["locust"] = {"runs": runs, "summary": summary, "ratios": ratios, "calibration": calibration,
                                "tokens": "stedi token issue --device 0c057000-0000-4000-8000-NNNNNNNNNNNN (STEDI_TOKEN_KEY)"}
        except Exception as error:  # noqa: BLE001
            benchlib.log(f"error: locust part: {error}")
            failed = True

    output = "\n\n".join(text)
    print(output)
    result["table"] = output
    result["finished"] = benchlib.finished()
    benchlib.write_result(args.out, result, announce=True)
    problems = any(r["problems"] for r in result.get("locust", {}).get("runs", []))
    return 2 if failed else (1 if problems else 0)


if __name__ == "__main__":
    sys.exit(main())
