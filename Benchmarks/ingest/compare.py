"""Drives `stedi serve` and the FastAPI peer with the same wrk load, one after the other, and
reconciles what each acknowledged with what it landed. See README.md in this folder.

For each round and each service (order alternating by round): a fresh lake; start the service
(pinned to the last CPU with --placement pinned) and wait for its first stdout line and
/healthz; a conformance check once per service at the start (same answers to the same good and
bad requests); a wrk warm-up, then the measured wrk run (pinned to CPU 0) POSTing pre-built
NDJSON bodies of --batch readings from post_readings.lua; the service's CPU time
(/proc/<pid>/stat of its process tree) over the measured window, its peak RSS (VmHWM); its own
acknowledged counter once it stops moving; SIGTERM and its exit; then the NDJSON lines in its
landing files. Prints a table and writes JSON.

Usage (run.sh passes these): compare.py --stedi PATH --python PY --work DIR --out FILE
    [--seconds S] [--warmup S] [--batch N] [--connections C] [--repeats R]
    [--placement pinned|shared] [--services stedi,fastapi[,fastapi2]] ...
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import benchlib  # noqa: E402
import benchhttp  # noqa: E402
import benchproc  # noqa: E402
from benchhttp import http  # noqa: E402

SERVICES = ("stedi", "fastapi", "fastapi2")
LABELS = {"stedi": "stedi serve", "fastapi": "FastAPI/uvicorn 1 worker", "fastapi2": "FastAPI/uvicorn 2 workers"}
TARGET_READINGS_PER_SECOND = 500_000
TARGET_P99_MS = 50.0
PATH = "/v1/step-trainer/readings"


# ------------------------------------------------------------ processes --

def disk_busy_ms(path):
    """Milliseconds the block device holding `path` has spent doing I/O (/proc/diskstats io_ticks),
    or None. The device's own figure, all processes: other people's builds writing count too."""
    try:
        st = os.stat(path)
        major, minor = os.major(st.st_dev), os.minor(st.st_dev)
        with open("/proc/diskstats") as f:
            for line in f:
                fields = line.split()
                if int(fields[0]) == major and int(fields[1]) == minor:
                    return int(fields[12])
    except (OSError, ValueError, IndexError):
        pass
    return None


def service_acknowledged(service):
    """The service's own count of readings acknowledged with 202 (None if unreadable)."""
    if service.name == "stedi":
        return benchhttp.acknowledged_readings(service.url(), ("step_trainer",))
    if service.name == "fastapi":
        status, body = http("GET", service.url("/stats"))
        return json.loads(body)["acknowledged"] if status == 200 else None
    return None  # several workers: each answers for itself; the stats files after exit count


# ------------------------------------------------------------------ runs --

def service_argv(name, args, lake):
    limits = ["--batch-max-records", str(args.batch_max_records), "--batch-max-bytes", str(args.batch_max_bytes),
              "--batch-max-age", str(args.batch_max_age), "--max-buffered-bytes", str(args.max_buffered_bytes),
              "--max-body-bytes", str(args.max_body_bytes)]
    if name == "stedi":
        wal = []
        if args.stedi_wal_root:  # diagnostic: the log elsewhere (e.g. on tmpfs, where fdatasync costs nothing)
            folder = os.path.join(args.stedi_wal_root, os.path.basename(lake))
            shutil.rmtree(folder, ignore_errors=True)
            wal = ["--wal", folder]
        return [args.stedi, "serve", "--lake", lake, "--port", "0"] + wal + limits
    workers = "2" if name == "fastapi2" else "1"
    return [args.python, os.path.join(HERE, "peer_fastapi.py"), "--lake", lake, "--port", "0",
            "--workers", workers] + limits


def start(name, args, lake, prefix):
    shutil.rmtree(lake, ignore_errors=True)
    os.makedirs(lake)
    cpu = args.service_cpu if args.placement == "pinned" else None
    service = benchhttp.Service(name, benchhttp.pin(cpu) + service_argv(name, args, lake), prefix,
                                env=dict(os.environ))
    return service.wait_ready()


def landed_lines(lake):
    """(NDJSON lines in <lake>/step_trainer/landing, files, leftover hidden temp files)."""
    return benchhttp.landed_lines(lake, ("step_trainer/landing",))[:3]


def peer_stats_files(lake):
    total = {"acknowledged": 0, "landed": 0, "workers": 0}
    folder = os.path.join(lake, "_peer")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        with open(os.path.join(folder, name)) as f:
            stats = json.load(f)
        total["acknowledged"] += stats["acknowledged"]
        total["landed"] += stats["landed"]
        total["workers"] += 1
    return total


def wrk_argv(args, url, seconds, threads, connections, rate_per_thread):
    pin = ["taskset", "-c", str(args.wrk_cpu)] if args.placement == "pinned" else []
    return pin + ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
                  "--timeout", f"{max(1, round(args.wrk_timeout))}s", "--latency",
                  "-s", os.path.join(HERE, "post_readings.lua"), url, "--",
                  str(args.batch), str(args.bodies), args.serial, args.token, str(args.base_ms),
                  f"{rate_per_thread:.6f}"]


def run_wrk(args, url, seconds, connections, rate, prefix):
    """Runs wrk (rate: readings/s to offer, 0 = closed loop, as fast as answered);
    (its parsed WRK_JSON, raw stdout, wall seconds, CPU seconds, exit code)."""
    threads = 1 if args.placement == "pinned" else args.wrk_threads
    threads = max(1, min(threads, connections))
    rate_per_thread = rate / args.batch / threads if rate else 0
    child = benchlib.run_child(wrk_argv(args, url, seconds, threads, connections, rate_per_thread), prefix)
    parsed = None
    for line in child.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            parsed = json.loads(line[len("WRK_JSON "):])
    return parsed, child.stdout, child.wall, child.cpu, child.code


def measure_phase(service, args, seconds, connections, rate, prefix):
    """One wrk run against the service, with the service's CPU (and its CPU's) over the window."""
    pids = benchproc.tree_pids(service.proc.pid)
    core0 = benchproc.machine_cpu_seconds(args.service_cpu)
    disk0 = disk_busy_ms(args.work)
    cpu0, (busy0, _), t0 = benchproc.tree_cpu(pids), benchproc.machine_cpu_seconds(), time.monotonic()
    wrk, raw, wrk_wall, wrk_cpu, code = run_wrk(args, service.url(), seconds, connections, rate, prefix)
    pids = benchproc.tree_pids(service.proc.pid)
    cpu1, (busy1, _), t1 = benchproc.tree_cpu(pids), benchproc.machine_cpu_seconds(), time.monotonic()
    core1 = benchproc.machine_cpu_seconds(args.service_cpu)
    disk1 = disk_busy_ms(args.work)
    if wrk is None:
        raise RuntimeError(f"wrk failed (exit {code}); see {prefix}.err")
    window = t1 - t0
    duration = wrk["duration_us"] / 1e6
    errors = wrk["errors"]
    ok_requests = wrk["requests"] - errors["status"]
    service_cpu = cpu1 - cpu0
    lat = wrk["latency_us"]
    return {
        "connections": connections, "offeredReadingsPerSecond": rate or None,
        "requests": wrk["requests"], "okRequests": ok_requests, "non2xx": errors["status"],
        "socketErrors": {k: errors[k] for k in ("connect", "read", "write", "timeout")},
        "behindSchedule": wrk.get("behind", 0),
        "wrkSeconds": round(duration, 3),
        "requestsPerSecond": round(ok_requests / duration, 1),
        "readingsPerSecond": round(ok_requests * args.batch / duration, 0),
        "mbPerSecond": round(ok_requests * args.batch * args.line_bytes / duration / 1e6, 1),
        "latencyMs": {k: round(v / 1000, 2) for k, v in lat.items()},
        "p50Ms": round(lat["p50"] / 1000, 2), "p99Ms": round(lat["p99"] / 1000, 2),
        "serviceCpuSeconds": round(service_cpu, 2),
        "serviceCores": round(service_cpu / window, 2),
        "readingsPerCpuSecond": round(ok_requests * args.batch / service_cpu, 0) if service_cpu > 0 else None,
        # how busy the service's CPU was (by anything): near 1 with --placement pinned = CPU-bound there
        "serviceCpuBusy": (round((core1[0] - core0[0]) / (core1[1] - core0[1]), 2)
                           if args.placement == "pinned" and core1[1] > core0[1] else None),
        "wrkCpuSeconds": round(wrk_cpu, 2), "wrkWallSeconds": round(wrk_wall, 2),
        "othersCores": round(((busy1 - busy0) - service_cpu - wrk_cpu) / window, 2),
        "machineCores": round((busy1 - busy0) / window, 2),
        # fraction of the phase the work folder's disk was busy (everyone's I/O, not only the service's)
        "diskBusy": round((disk1 - disk0) / 1000 / window, 2) if disk0 is not None and disk1 is not None else None,
        "wrkRaw": raw,
    }


def run_once(name, args, round_index):
    """One service, fresh lake: warm-up, the closed-loop phase, the paced phase, SIGTERM, reconcile."""
    prefix = os.path.join(args.work, "logs", f"{name}-{round_index}")
    lake = os.path.join(args.work, "lakes", f"{name}-{round_index}")
    service = start(name, args, lake, prefix)
    ok_requests = 0
    try:
        if args.warmup > 0:
            warm, _, _, _, code = run_wrk(args, service.url(), args.warmup, args.connections, 0, prefix + ".warmup.wrk")
            if warm is None:
                raise RuntimeError(f"wrk warm-up failed (exit {code}); see {prefix}.warmup.wrk.err")
            ok_requests += warm["requests"] - warm["errors"]["status"]
        result = {"service": name, "round": round_index, "placement": args.placement,
                  "readyAfterSeconds": round(service.ready_seconds, 2)}
        result.update(measure_phase(service, args, args.seconds, args.connections, 0, prefix + ".wrk"))
        ok_requests += result["okRequests"]
        if args.rate:
            result["paced"] = measure_phase(service, args, args.seconds, args.rate_connections, args.rate,
                                            prefix + ".paced.wrk")
            ok_requests += result["paced"]["okRequests"]
        acknowledged = benchhttp.settled(lambda: service_acknowledged(service))
        hwm_kib = sum(benchproc.status_kib(pid, "VmHWM", 0) for pid in benchproc.tree_pids(service.proc.pid))
        alive = service.proc.poll() is None
        code, stop_seconds, total_cpu, ru_maxrss = service.stop()
    finally:
        service.kill()
    lines, files, temps = landed_lines(lake)
    if name.startswith("fastapi"):
        final_acknowledged = peer_stats_files(lake)["acknowledged"]
        if acknowledged is None:
            acknowledged = final_acknowledged
    else:
        final_acknowledged = acknowledged
    if not args.keep_lakes:  # a run lands 1-3 GB; the counts above are all that is kept
        shutil.rmtree(lake, ignore_errors=True)
        if args.stedi_wal_root:
            shutil.rmtree(os.path.join(args.stedi_wal_root, os.path.basename(lake)), ignore_errors=True)
    acked_by_wrk = ok_requests * args.batch
    result.update({
        "serviceTotalCpuSeconds": round(total_cpu, 2),
        "peakRssMiB": round(max(hwm_kib, ru_maxrss) / 1024, 1), "vmHwmMiB": round(hwm_kib / 1024, 1),
        "ruMaxrssMiB": round(ru_maxrss / 1024, 1),
        "acknowledged": acknowledged, "acknowledgedAtExit": final_acknowledged,
        "landed": lines, "landingFiles": files, "leftoverTempFiles": temps,
        "wrk2xxReadings": acked_by_wrk,
        "inFlightReadings": (acknowledged - acked_by_wrk) if acknowledged is not None else None,
        "aliveBeforeStop": alive, "exitCode": code, "stopSeconds": round(stop_seconds, 2),
    })
    problems = []
    if not alive:
        problems.append("the service had exited before SIGTERM")
    if code != 0:
        problems.append(f"exit code {code} after SIGTERM")
    if acknowledged != lines or final_acknowledged != lines:
        problems.append(f"acknowledged {acknowledged} (at exit {final_acknowledged}) != landed {lines}")
    if acknowledged is not None and acked_by_wrk > acknowledged:
        problems.append(f"wrk saw {acked_by_wrk} readings acknowledged, the service counts {acknowledged}")
    if temps:
        problems.append(f"{temps} temp file(s) left in landing")
    result["problems"] = problems
    return result


# ---------------------------------------------------------- conformance --

# Times the service accepts (it refuses readings before 2000 or over a day ahead); t is an offset.
CONFORMANCE_BASE_MS = 1_700_000_000_000


def reading(t, serial, distance=245):
    return {"sensorReadingTime": CONFORMANCE_BASE_MS + t, "serialNumber": serial, "distanceFromObject": distance}


def conformance(name, args):
    """The same good and bad requests to a fresh service; {case: status}, landed lines and problems."""
    lake = os.path.join(args.work, "lakes", f"{name}-conformance")
    prefix = os.path.join(args.work, "logs", f"{name}-conformance")
    service = start(name, args, lake, prefix)
    s = args.serial
    nd = lambda *records: ("\n".join(json.dumps(r) for r in records) + "\n").encode()
    tampered = args.token[:-2] + ("AA" if not args.token.endswith("AA") else "BB")
    cases = [
        ("ndjson 3", nd(reading(1, s), reading(2, s, 12.5), reading(3, s)), args.token, 202, 3),
        ("json array 2", json.dumps([reading(4, s), reading(5, s)]).encode(), args.token, 202, 2),
        ("fractional time", nd(reading(6, s), {**reading(7, s), "sensorReadingTime": CONFORMANCE_BASE_MS + 7.5}),
         args.token, 400, None),
        ("time as string", nd({**reading(8, s), "sensorReadingTime": "8"}), args.token, 400, None),
        ("missing field", nd({"sensorReadingTime": 9, "serialNumber": s}), args.token, 400, None),
        ("not json", b"{nope\n", args.token, 400, None),
        ("other serial", nd(reading(10, s), reading(11, s + "-other")), args.token, 403, None),
        ("tampered token", nd(reading(12, s)), tampered, 401, None),
        ("no token", nd(reading(13, s)), None, 401, None),
    ]
    got, problems = {}, []
    try:
        for case, body, token, want, accepted in cases:
            headers = {"Content-Type": "application/x-ndjson"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            status, answer = http("POST", service.url(PATH), body, headers)
            got[case] = status
            if status != want:
                problems.append(f"{case}: {status} (expected {want}): {answer[:200]!r}")
            elif accepted is not None and json.loads(answer).get("accepted") != accepted:
                problems.append(f"{case}: answer {answer!r}")
        code = service.stop().code
    finally:
        service.kill()
    lines, _, _ = landed_lines(lake)
    if code != 0:
        problems.append(f"exit code {code} after SIGTERM")
    if lines != 5:
        problems.append(f"{lines} lines landed, expected 5")
    shutil.rmtree(lake, ignore_errors=True)
    return {"statuses": got, "landed": lines, "exitCode": code, "problems": problems}


# ------------------------------------------------------------------ main --

def issue_token(args):
    """A device token from `stedi token issue` (or minted here, same format, without stedi)."""
    if os.access(args.stedi, os.X_OK):
        return benchhttp.issue_token(args.stedi, os.path.join(args.work, "lakes", "token"), args.serial), \
            "stedi token issue"
    key = os.environ["STEDI_TOKEN_KEY"].encode()
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    claims = enc(json.dumps({"exp": int(time.time()) + 86400, "role": "device", "sub": args.serial},
                            sort_keys=True, separators=(",", ":")).encode())
    mac = enc(hmac.new(key, f"stedi1.{claims}".encode(), hashlib.sha256).digest())
    return f"stedi1.{claims}.{mac}", "minted by compare.py"


def phase_summary(phases):
    return {
        "readingsPerSecond": benchlib.median_present(phases, "readingsPerSecond"),
        "readingsPerSecondRuns": [r["readingsPerSecond"] for r in phases],
        "requestsPerSecond": benchlib.median_present(phases, "requestsPerSecond"),
        "p50Ms": benchlib.median_present(phases, "p50Ms"), "p99Ms": benchlib.median_present(phases, "p99Ms"),
        "p50MsRuns": [r["p50Ms"] for r in phases], "p99MsRuns": [r["p99Ms"] for r in phases],
        "p999Ms": statistics.median(r["latencyMs"]["p999"] for r in phases),
        "non2xx": sum(r["non2xx"] for r in phases),
        "socketErrors": sum(sum(r["socketErrors"].values()) for r in phases),
        "behindSchedule": sum(r["behindSchedule"] for r in phases),
        "serviceCpuSeconds": benchlib.median_present(phases, "serviceCpuSeconds"), "serviceCores": benchlib.median_present(phases, "serviceCores"),
        "serviceCpuBusy": benchlib.median_present(phases, "serviceCpuBusy"),
        "readingsPerCpuSecond": benchlib.median_present(phases, "readingsPerCpuSecond"),
        "wrkCores": round(statistics.median(r["wrkCpuSeconds"] / r["wrkWallSeconds"] for r in phases), 2),
        "othersCoresMax": max(r["othersCores"] for r in phases),
        "diskBusyMax": max((r.get("diskBusy") or 0) for r in phases),
    }


def summarise(runs, names):
    summary = {}
    for name in names:
        mine = [r for r in runs if r["service"] == name]
        if not mine:
            continue
        summary[name] = phase_summary(mine)
        summary[name].update({
            "runs": len(mine),
            "peakRssMiB": benchlib.median_present(mine, "peakRssMiB"),
            "inFlightReadingsMax": max((r["inFlightReadings"] or 0) for r in mine),
            "reconciled": all(not r["problems"] for r in mine),
        })
        if all("paced" in r for r in mine):
            summary[name]["paced"] = phase_summary([r["paced"] for r in mine])
    return summary


def busy(s):
    return "-" if s.get("serviceCpuBusy") is None else f"{s['serviceCpuBusy']:.2f}"


def table(summary, names, args, ratios, verdict):
    runs = summary[names[0]]["runs"]
    lines = [
        f"Ingest load: NDJSON bodies of {args.batch} step-trainer readings ({args.batch * args.line_bytes / 1000:.0f} kB) "
        f"from wrk, {args.seconds:g} s per phase after a {args.warmup:g} s warm-up; median of {runs} run(s) per "
        f"service; placement: {args.placement_note}"
        + (f"; DIAGNOSTIC: stedi's write-ahead log under {args.stedi_wal_root}" if args.stedi_wal_root else ""),
        "",
        f"Saturation (closed loop: {args.connections} connections, each sends its next request when answered):",
        "",
    ]
    lines += benchlib.markdown_table(
        [("service", "l"), ("readings/s", "r"), ("req/s", "r"), ("p50 ms", "r"), ("p99 ms", "r"), ("p99.9 ms", "r"),
         ("non-2xx", "r"), ("sock err", "r"), ("CPU s", "r"), ("cores", "r"), ("its CPU busy", "r"),
         ("readings/CPU-s", "r"), ("peak RSS MiB", "r"), ("acked = landed", "l"), ("in flight max", "r"),
         ("others", "r"), ("disk busy", "r")],
        [[LABELS[name], f"{s['readingsPerSecond']:,.0f}", f"{s['requestsPerSecond']:,.1f}", f"{s['p50Ms']:.1f}",
          f"{s['p99Ms']:.1f}", f"{s['p999Ms']:.1f}", s["non2xx"], s["socketErrors"], f"{s['serviceCpuSeconds']:.1f}",
          f"{s['serviceCores']:.2f}", busy(s), f"{s['readingsPerCpuSecond'] or 0:,.0f}", f"{s['peakRssMiB']:.0f}",
          "yes" if s["reconciled"] else "NO", f"{s['inFlightReadingsMax']:,}", f"{s['othersCoresMax']:.2f}",
          f"{s['diskBusyMax']:.2f}"]
         for name, s in ((n, summary[n]) for n in names if n in summary)])
    if any("paced" in summary.get(n, {}) for n in names):
        lines += [
            "",
            f"Paced (offered {args.rate:,.0f} readings/s = {args.rate / args.batch:,.0f} requests/s on a fixed "
            f"schedule over {args.rate_connections} connections; 'behind' = slots sent late because every "
            "connection was still waiting):",
            "",
        ]
        lines += benchlib.markdown_table(
            [("service", "l"), ("achieved readings/s", "r"), ("p50 ms", "r"), ("p99 ms", "r"), ("p99.9 ms", "r"),
             ("behind", "r"), ("non-2xx", "r"), ("cores", "r"), ("its CPU busy", "r"), ("others", "r"),
             ("disk busy", "r")],
            [[LABELS[name], f"{s['readingsPerSecond']:,.0f}", f"{s['p50Ms']:.1f}", f"{s['p99Ms']:.1f}",
              f"{s['p999Ms']:.1f}", s["behindSchedule"], s["non2xx"], f"{s['serviceCores']:.2f}", busy(s),
              f"{s['othersCoresMax']:.2f}", f"{s['diskBusyMax']:.2f}"]
             for name, s in ((n, summary.get(n, {}).get("paced")) for n in names) if s])
    lines.append("")
    for peer, r in ratios.items():
        lines.append(f"stedi / {LABELS[peer]} at saturation: throughput {r['throughput']:.2f}x, p50 latency "
                     f"{r['p50']:.2f}x, p99 latency {r['p99']:.2f}x, readings per CPU-second {r['perCpu']:.2f}x")
    if verdict:
        lines.append(verdict)
    lines.append("The FastAPI peer keeps no write-ahead log: its 202 means 'in memory', stedi's means 'fdatasync'ed "
                 "to its log'. The comparison favours the peer on durability cost.")
    lines.append("in flight = readings the service acknowledged minus wrk's 2xx x batch over all phases (requests "
                 "in flight when a wrk run stopped); its CPU busy = the service's CPU busy with anything; others = "
                 "cores busy with other work than the service and wrk during the phase (noise); disk busy = "
                 "fraction of the phase the lake's disk was busy, everyone's I/O included.")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--stedi", required=True)
    p.add_argument("--python", required=True, help="the interpreter with fastapi and uvicorn")
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--warmup", type=float, default=3)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--bodies", type=int, default=200, help="distinct pre-built bodies per wrk thread")
    p.add_argument("--connections", type=int, default=16, help="connections of the closed-loop phase")
    p.add_argument("--rate", type=float, default=TARGET_READINGS_PER_SECOND,
                   help="readings/s offered in the paced phase (0: no paced phase)")
    p.add_argument("--rate-connections", type=int, default=32, help="connections of the paced phase")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--services", default="stedi,fastapi")
    p.add_argument("--placement", choices=("pinned", "shared"), default="pinned")
    p.add_argument("--wrk-threads", type=int, default=2, help="wrk threads with --placement shared")
    p.add_argument("--wrk-timeout", type=float, default=10)
    p.add_argument("--serial", default="bench-0001")
    p.add_argument("--base-ms", type=int, default=1_700_000_000_000)
    p.add_argument("--batch-max-records", type=int, default=100_000)
    p.add_argument("--batch-max-bytes", type=int, default=8 << 20)
    p.add_argument("--batch-max-age", type=float, default=60)
    p.add_argument("--max-buffered-bytes", type=int, default=256 << 20)
    p.add_argument("--max-body-bytes", type=int, default=16 << 20)
    p.add_argument("--wait-idle", type=float, default=60,
                   help="before each run, wait up to this long for the CPUs to be under 10%% busy")
    p.add_argument("--no-conformance", action="store_true")
    p.add_argument("--keep-lakes", action="store_true", help="keep each run's lake under <work>/lakes/")
    p.add_argument("--stedi-wal-root", help="diagnostic: put stedi's write-ahead log in a folder under this one "
                   "(e.g. /dev/shm: tmpfs, fdatasync is free) instead of <lake>/_stedi/ingest-wal")
    args = p.parse_args()
    names = benchlib.parse_names(args.services, SERVICES, unique=True)
    if names is None:
        raise SystemExit(f"--services takes names from {', '.join(SERVICES)}")
    if len(os.environ.get("STEDI_TOKEN_KEY", "")) < 32:
        raise SystemExit("STEDI_TOKEN_KEY must be set (32 bytes or more); run.sh sets one")
    cpus = os.cpu_count() or 1
    args.service_cpu, args.wrk_cpu = cpus - 1, 0
    args.placement_note = (f"service on CPU {args.service_cpu}, wrk (1 thread) on CPU {args.wrk_cpu} (taskset)"
                           if args.placement == "pinned" and cpus > 1 else
                           f"unpinned, wrk {args.wrk_threads} threads, {cpus} CPUs shared")
    if args.placement == "pinned" and cpus < 2:
        args.placement = "shared"
    os.makedirs(os.path.join(args.work, "logs"), exist_ok=True)
    os.makedirs(os.path.join(args.work, "lakes"), exist_ok=True)
    args.token, token_source = issue_token(args)
    # bytes of one NDJSON line as post_readings.lua builds it (distance 150..300: 3 digits)
    args.line_bytes = len(json.dumps(reading(args.base_ms - CONFORMANCE_BASE_MS, args.serial, 245), separators=(",", ":"))) + 1

    checks = {}
    if not args.no_conformance:
        for name in names:
            checks[name] = conformance(name, args)
            state = "ok" if not checks[name]["problems"] else "FAILED: " + "; ".join(checks[name]["problems"])
            benchlib.log(f"== conformance {name}: {state}")
        if any(c["problems"] for c in checks.values()):
            benchlib.log("error: the services do not answer alike; fix that before comparing them")
            return 3

    busy = benchlib.busy_before_runs(" (another engineer compiling?)")
    runs = []
    for i, name, before in benchlib.rounds_when_idle(names, args.repeats, args.wait_idle):
        try:
            result = run_once(name, args, i)
        except Exception as error:  # noqa: BLE001
            benchlib.log(f"error: {name} round {i + 1}: {error}")
            return 2
        result["cpuBusyBefore"] = before
        runs.append(result)
        paced = result.get("paced")
        benchlib.log(
            f"   {result['readingsPerSecond']:,.0f} readings/s, p50 {result['p50Ms']} ms, p99 {result['p99Ms']} ms, "
            f"disk busy {result['diskBusy']}, "
            f"non-2xx {result['non2xx']}, CPU {result['serviceCpuSeconds']} s, RSS {result['peakRssMiB']} MiB, "
            f"acked {result['acknowledged']} landed {result['landed']} in flight {result['inFlightReadings']}, "
            f"others {result['othersCores']}"
            + (f"; paced: {paced['readingsPerSecond']:,.0f} readings/s, p50 {paced['p50Ms']} ms, p99 "
               f"{paced['p99Ms']} ms, behind {paced['behindSchedule']}, others {paced['othersCores']}"
               if paced else "")
            + (f"  PROBLEMS: {'; '.join(result['problems'])}" if result["problems"] else ""))

    summary = summarise(runs, names)
    ratios = {}
    for peer in ("fastapi", "fastapi2"):
        if "stedi" in summary and peer in summary:
            a, b = summary["stedi"], summary[peer]
            ratios[peer] = {
                "throughput": round(a["readingsPerSecond"] / b["readingsPerSecond"], 2),
                "p50": round(a["p50Ms"] / b["p50Ms"], 2), "p99": round(a["p99Ms"] / b["p99Ms"], 2),
                "perCpu": round(a["readingsPerCpuSecond"] / b["readingsPerCpuSecond"], 2),
            }
    verdict = None
    target = None
    if "stedi" in summary:
        s = summary["stedi"]
        stedi_runs = [r for r in runs if r["service"] == "stedi"]
        saturation = s["readingsPerSecond"] >= TARGET_READINGS_PER_SECOND
        target = {"readingsPerSecond": TARGET_READINGS_PER_SECOND, "p99Ms": TARGET_P99_MS,
                  "saturationReadingsPerSecond": s["readingsPerSecond"], "saturationP99Ms": s["p99Ms"],
                  "saturationRunsMeeting": sum(1 for r in stedi_runs if r["readingsPerSecond"] >=
                                               TARGET_READINGS_PER_SECOND and r["p99Ms"] < TARGET_P99_MS)}
        verdict = (f"target >= {TARGET_READINGS_PER_SECOND:,} readings/s sustained with p99 < {TARGET_P99_MS:g} ms, "
                   f"stedi: saturation {s['readingsPerSecond']:,.0f} readings/s "
                   f"({'>=' if saturation else '<'} target) with p99 {s['p99Ms']:.1f} ms at {args.connections} "
                   f"connections ({target['saturationRunsMeeting']} of {s['runs']} runs under {TARGET_P99_MS:g} ms)")
        paced = s.get("paced")
        if paced and args.rate >= TARGET_READINGS_PER_SECOND:
            sustained = paced["readingsPerSecond"] >= 0.99 * args.rate and paced["behindSchedule"] == 0
            met = sustained and paced["p99Ms"] < TARGET_P99_MS
            target.update({"pacedReadingsPerSecond": paced["readingsPerSecond"], "pacedP99Ms": paced["p99Ms"],
                           "pacedRunsMeeting": sum(1 for r in stedi_runs if r["paced"]["p99Ms"] < TARGET_P99_MS
                                                   and r["paced"]["behindSchedule"] == 0
                                                   and r["paced"]["readingsPerSecond"] >= 0.99 * args.rate),
                           "met": met})
            verdict += (f"; at an offered {args.rate:,.0f} readings/s it achieved {paced['readingsPerSecond']:,.0f} "
                        f"with p99 {paced['p99Ms']:.1f} ms ({target['pacedRunsMeeting']} of {s['runs']} runs on "
                        f"schedule with p99 under {TARGET_P99_MS:g} ms) -> target {'MET' if met else 'NOT MET'}")
        else:
            target["met"] = saturation and s["p99Ms"] < TARGET_P99_MS
            verdict += f" -> target {'MET' if target['met'] else 'NOT MET'}"
    text = table(summary, names, args, ratios, verdict)
    print(text)
    result = {
        "finished": benchlib.finished(), "machine": benchlib.machine_info(busy),
        "settings": {k: getattr(args, k) for k in (
            "seconds", "warmup", "batch", "bodies", "connections", "rate", "rate_connections", "repeats", "placement", "placement_note",
            "wrk_timeout", "serial", "batch_max_records", "batch_max_bytes", "batch_max_age",
            "max_buffered_bytes", "max_body_bytes", "line_bytes", "stedi_wal_root")},
        "token": token_source, "peerDurability": "no write-ahead log: 202 = in memory; landing files fsynced",
        "conformance": checks, "summary": summary, "ratios": ratios, "target": target, "runs": runs,
        "table": text,
    }
    benchlib.write_result(args.out, result, announce=True)
    return 0 if all(not r["problems"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
