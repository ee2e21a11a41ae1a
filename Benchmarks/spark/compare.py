#!/usr/bin/env python3
"""Run `stedi pipeline run --profile strict` and the same rules exported to Spark
(`stedi pipeline export --target spark`, run on local[N]) over a sweep of lake
sizes, and compare wall time, peak memory of the whole process tree and the row
counts of every table.

Each engine runs as a child process of this script; wall time is spawn to exit
of that child (so Python start-up and the JVM's start-up count for Spark).
Memory is measured over the whole process tree, because pyspark starts the JVM
as a child of its Python process and does not wait for it: this script makes
itself a child subreaper (prctl), so the orphaned JVM is re-parented to it and
reaped here, and a sampler thread sums VmRSS over every descendant every
--sample-interval seconds. See README.md for what each figure means.

Exit status: 0 all counts agree at every size, 1 a count (or, where checked,
the content) disagrees, 2 an engine, the export or the set-up failed.
"""

import argparse
import ctypes
import hashlib
import json
import os
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import benchlib  # noqa: E402
import benchproc  # noqa: E402
from benchlib import log  # noqa: E402
from benchproc import descendants, process_table  # noqa: E402

from benchlib import TABLE_ORDER, BASE_COUNTS, OUTPUT_DIRS, SOURCES, clear_outputs, count_rows, warm_cache  # noqa: E402
ENGINES = ("stedi", "spark")
REPLICA_FILE = re.compile(r"-r(\d+)\.json$")
PR_SET_CHILD_SUBREAPER = 36
SYS_KCMP_X86_64, KCMP_VM = 312, 1
MIB = 1024 * 1024


# ------------------------------------------------------------------ lakes --

def marker_replicas(lake):
    try:
        with open(os.path.join(lake, ".scale_lake.json")) as f:
            return int(json.load(f)["replicas"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def make_lake(source_lake, dest, replicas, key_file, mode):
    """dest/<source>/landing/ holding the files of replicas 0..replicas-1 of source_lake
    (hard links or copies), and dest/_stedi/pseudonym.key copied from key_file.
    Returns (files, bytes)."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    nfiles = nbytes = 0
    for source in SOURCES:
        src_dir = os.path.join(source_lake, source, "landing")
        dst_dir = os.path.join(dest, source, "landing")
        os.makedirs(dst_dir)
        for name in sorted(os.listdir(src_dir)):
            m = REPLICA_FILE.search(name)
            if not m or int(m.group(1)) >= replicas:
                continue
            src, dst = os.path.join(src_dir, name), os.path.join(dst_dir, name)
            if mode == "link":
                os.link(src, dst)
            else:
                shutil.copyfile(src, dst)
            nfiles += 1
            nbytes += os.path.getsize(dst)
    os.makedirs(os.path.join(dest, "_stedi"))
    shutil.copyfile(key_file, os.path.join(dest, "_stedi", "pseudonym.key"))
    os.chmod(os.path.join(dest, "_stedi", "pseudonym.key"), 0o600)
    return nfiles, nbytes


def output_files(folder):
    if not os.path.isdir(folder):
        return None
    paths = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "_"))]
        paths += [os.path.join(dirpath, n) for n in sorted(filenames) if not n.startswith((".", "_"))]
    return paths


def content_digest(folder):
    """(rows, order-independent digest) of an NDJSON output folder. Each row is canonicalised
    (keys sorted, null fields dropped, numbers as floats, since Spark writes 245.0 where stedi
    writes 245) and hashed; the digest is the sum of the hashes mod 2**64, so it compares the
    multiset of rows. Python's hash is stable within this process, which is all it needs."""
    paths = output_files(folder)
    if paths is None:
        return None, None
    total = rows = 0
    for path in paths:
        with open(path, "rb") as f:
            for line in f:
                if not line.strip():
                    continue
                obj = json.loads(line)
                row = tuple(sorted(
                    (k, float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
                    for k, v in obj.items() if v is not None))
                total = (total + hash(row)) & 0xFFFFFFFFFFFFFFFF
                rows += 1
    return rows, f"{total:016x}"


# ---------------------------------------------------------- process tree --

def become_subreaper():
    """Orphaned descendants (pyspark's JVM) get re-parented to this process, so they stay
    in its tree for the sampler and are reaped (and accounted) here. False off Linux."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


_LIBC = None


def shares_memory_with(pid, ppid):
    """True when pid still runs in ppid's address space: a vfork/posix_spawn child between
    clone(CLONE_VM) and exec. The JVM starts commands that way (Hadoop's local file system
    shells out to chmod and the like), and such a child shows the JVM's whole RSS and PSS
    as its own. kcmp(KCMP_VM) where it works, else: same executable as a java parent."""
    global _LIBC
    try:
        if _LIBC is None:
            _LIBC = ctypes.CDLL(None, use_errno=True)
        if os.uname().machine == "x86_64":
            answer = _LIBC.syscall(SYS_KCMP_X86_64, pid, ppid, KCMP_VM, 0, 0)
            if answer in (0, 1, 2):
                return answer == 0
    except (OSError, AttributeError):
        pass
    try:
        exe, parent_exe = os.readlink(f"/proc/{pid}/exe"), os.readlink(f"/proc/{ppid}/exe")
    except OSError:
        return False
    return exe == parent_exe and os.path.basename(parent_exe) == "java"


def pss_of(pid):
    """Proportional set size KiB (shared pages split between their users), or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def memory_of(pid):
    """(VmRSS KiB, VmHWM KiB, comm) of a live process; (None, None, comm) for a zombie."""
    rss = hwm = None
    comm = "?"
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Name:"):
                    comm = line.split(None, 1)[1].strip()
                elif line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return rss, hwm, comm


class TreeSampler(threading.Thread):
    """Every `interval` seconds: the sum of VmRSS over this process's descendants (the peak
    of that sum is kept), and each descendant's VmHWM and name."""

    def __init__(self, interval):
        super().__init__(daemon=True)
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak_sum_kib = 0
        self.peak_pss_kib = 0
        self.samples = 0
        self.max_processes = 0
        self.hwm = {}    # pid -> last VmHWM KiB seen
        self.names = {}  # pid -> comm
        self.vm_sharing_seen = set()  # vfork-style children skipped while they shared their parent's memory

    def sample(self):
        table = process_table()
        pids = descendants(os.getpid(), table)
        total = live = pss_total = 0
        for pid in pids:
            rss, hwm, comm = memory_of(pid)
            if rss is None:
                continue
            if table[pid] != os.getpid() and shares_memory_with(pid, table[pid]):
                self.vm_sharing_seen.add(pid)
                continue
            live += 1
            total += rss
            pss_total += pss_of(pid) or 0
            self.hwm[pid] = max(self.hwm.get(pid, 0), hwm or 0)
            self.names[pid] = comm  # the last name: the JVM starts as bash (spark-class) and execs java
        self.samples += 1
        self.peak_sum_kib = max(self.peak_sum_kib, total)
        self.peak_pss_kib = max(self.peak_pss_kib, pss_total)
        self.max_processes = max(self.max_processes, live)

    def run(self):
        while not self.stop_event.is_set():
            try:
                self.sample()
            except Exception as error:  # never let a /proc race kill the measurement
                log(f"warning: sampler: {error}")
            self.stop_event.wait(self.interval)

    def finish(self):
        self.stop_event.set()
        self.join()


def reap_rest(linger_timeout):
    """Wait for the run's remaining descendants (re-parented to us) to exit and reap them.
    Returns ({pid: ru_maxrss KiB}, seconds from the call to the last reap, pids killed
    because they were still running after linger_timeout seconds)."""
    started = time.perf_counter()
    reaped, killed, last = {}, [], 0.0
    while True:
        try:
            pid, _, ru = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break  # no children left
        if pid:
            reaped[pid] = ru.ru_maxrss
            last = time.perf_counter() - started
            continue
        waited = time.perf_counter() - started
        if waited > linger_timeout and not killed:
            for stray in descendants(os.getpid(), process_table()):
                try:
                    os.kill(stray, signal.SIGKILL)
                    killed.append(stray)
                except ProcessLookupError:
                    pass
            log(f"warning: killed {len(killed)} process(es) still running {linger_timeout:.0f} s "
                "after the engine exited")
        elif waited > linger_timeout + 10:
            log("warning: gave up waiting for the engine's leftover processes")
            break
        time.sleep(0.01)
    return reaped, round(last, 3), killed


def drain_zombies():
    """Reap anything left over from earlier commands, so it is not counted in the next run."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return


def busy_cpu_seconds():
    """CPU seconds all CPUs have spent not idle since boot (from /proc/stat), or None."""
    seconds = benchproc.machine_cpu_seconds()
    return seconds[0] if seconds else None


def run_tree(argv, log_prefix, interval, linger_timeout, env=None):
    """Run argv as a child with stdout/stderr in <log_prefix>.out/.err and measure its tree."""
    drain_zombies()
    machine0 = busy_cpu_seconds()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = TreeSampler(interval)
    spawned = []

    def watch(proc, t0):
        spawned.append(proc)
        sampler.start()

    child = benchlib.run_child(argv, log_prefix, env=env, watch=watch)
    proc, wall = spawned[0], child.wall
    reaped, linger, killed = reap_rest(linger_timeout)
    tree_wall = wall + linger  # until the last leftover process (the JVM) was reaped
    sampler.finish()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine1 = busy_cpu_seconds()
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    # What the rest of the machine did meanwhile (this script's sampler included): CPU seconds
    # per wall second, i.e. how many cores other work took on average during the run.
    others = (max(0.0, (machine1 - machine0) - cpu) / (wall + linger)
              if machine0 is not None and machine1 is not None and wall + linger > 0 else None)

    # Each process's own peak: exact (ru_maxrss) for the ones reaped here, else its last VmHWM.
    peaks = dict(sampler.hwm)
    peaks[proc.pid] = max(peaks.get(proc.pid, 0), child.rss_kib)
    for pid, maxrss in reaped.items():
        peaks[pid] = max(peaks.get(pid, 0), maxrss)
    largest_pid = max(peaks, key=peaks.get)
    tree_peak = max(sampler.peak_sum_kib, peaks[largest_pid])
    return {
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 2),
        "other_cores_busy_during": round(others, 2) if others is not None else None,
        "peak_rss_tree_mib": round(tree_peak / 1024, 1),
        "peak_pss_tree_mib": round(sampler.peak_pss_kib / 1024, 1),
        "peak_rss_sum_of_process_peaks_mib": round(sum(peaks.values()) / 1024, 1),
        "process_peaks_mib": sorted(([sampler.names.get(p, "?"), round(v / 1024, 1)] for p, v in peaks.items()),
                                    key=lambda x: -x[1])[:8],
        "peak_rss_largest_process_mib": round(peaks[largest_pid] / 1024, 1),
        "largest_process": sampler.names.get(largest_pid, "?"),
        "child_ru_maxrss_mib": round(child.rss_kib / 1024, 1),
        "processes_seen": len(peaks),
        "vfork_children_skipped": len(sampler.vm_sharing_seen),
        "samples": sampler.samples,
        "outlived_child": {sampler.names.get(p, str(p)): round(v / 1024, 1) for p, v in reaped.items()},
        "linger_seconds": linger,
        "tree_wall_seconds": round(tree_wall, 3),
        "killed_after_timeout": killed,
        "exit_code": child.code,
        "stdout": child.stdout,
    }


# --------------------------------------------------------------- analysis --

def linear_fit(points):
    """Least-squares (intercept, slope) of y over x, or None with fewer than 2 distinct x."""
    xs = [p[0] for p in points]
    if len(set(xs)) < 2:
        return None
    mx = statistics.fmean(xs)
    my = statistics.fmean(p[1] for p in points)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - slope * mx, slope


def crossover(fit_stedi, fit_spark):
    """Replicas where the two fitted lines meet, when Spark's grows more slowly; else None."""
    if not fit_stedi or not fit_spark:
        return None
    (a_s, b_s), (a_p, b_p) = fit_stedi, fit_spark
    if b_p >= b_s:
        return None
    return (a_p - a_s) / (b_s - b_p)


def startup_point(sizes, times):
    """Smallest measured size N with T(N) - T(n0) > T(n0) (n0 the smallest size), i.e. where the
    part of Spark's time that grows with the data passes its time on the smallest lake, and the
    same point interpolated linearly between the measured sizes on either side of it."""
    n0, t0 = sizes[0], times[0]
    for i in range(1, len(sizes)):
        if times[i] - t0 > t0:
            lo_n, lo_t = sizes[i - 1], times[i - 1]
            hi_n, hi_t = sizes[i], times[i]
            interp = lo_n + (2 * t0 - lo_t) * (hi_n - lo_n) / (hi_t - lo_t) if hi_t != lo_t else hi_n
            return sizes[i], round(interp, 1)
    return None, None


def analyse(sizes, summary, startup_wall):
    """Ratios per size, the size where Spark's start-up stops dominating, and the crossover."""
    t = {e: [summary[n][e]["wall_seconds_median"] for n in sizes] for e in ENGINES}
    m = {e: [summary[n][e]["peak_rss_tree_mib_median"] for n in sizes] for e in ENGINES}
    out = {"sizes": sizes}
    out["time_ratio_spark_over_stedi"] = {n: round(t["spark"][i] / t["stedi"][i], 1)
                                          for i, n in enumerate(sizes)}
    out["memory_ratio_spark_over_stedi"] = {n: round(m["spark"][i] / m["stedi"][i], 1)
                                            for i, n in enumerate(sizes)}
    fits = {}
    for label, chosen in (("all_sizes", sizes), ("largest_two", sizes[-2:])):
        if len(chosen) < 2 or (label == "largest_two" and len(sizes) == 2):
            continue
        f = {e: linear_fit([(n, t[e][sizes.index(n)]) for n in chosen]) for e in ENGINES}
        fm = {e: linear_fit([(n, m[e][sizes.index(n)]) for n in chosen]) for e in ENGINES}
        cross = crossover(f["stedi"], f["spark"])
        fits[label] = {
            "sizes": chosen,
            "stedi_seconds": {"intercept": round(f["stedi"][0], 3), "per_replica": round(f["stedi"][1], 4)},
            "spark_seconds": {"intercept": round(f["spark"][0], 3), "per_replica": round(f["spark"][1], 4)},
            "stedi_mib": {"intercept": round(fm["stedi"][0], 1), "per_replica": round(fm["stedi"][1], 2)},
            "spark_mib": {"intercept": round(fm["spark"][0], 1), "per_replica": round(fm["spark"][1], 2)},
            # Where Spark's data-dependent part (slope x N) equals its fixed part (intercept).
            "spark_startup_equals_data_at": (round(f["spark"][0] / f["spark"][1], 1)
                                             if f["spark"][1] > 0 else None),
            "crossover_replicas": round(cross, 1) if cross is not None else None,
        }
    out["fits"] = fits
    if len(sizes) >= 2:
        measured, interp = startup_point(sizes, t["spark"])
        sd = {"rule": f"T_spark(N) - T_spark({sizes[0]}) > T_spark({sizes[0]})",
              "first_measured_size": measured, "interpolated_size": interp}
        # The same rule on the fitted lines: a + b*N = 2*T(n0).
        for label, f in fits.items():
            a_p, b_p = f["spark_seconds"]["intercept"], f["spark_seconds"]["per_replica"]
            sd[f"from_fit_{label}"] = round((2 * t["spark"][0] - a_p) / b_p, 1) if b_p > 0 else None
        out["spark_startup_stops_dominating"] = sd
    if startup_wall:
        out["spark_startup_wall_seconds"] = startup_wall
        out["startup_share_of_spark_time"] = {n: round(startup_wall / t["spark"][i], 2)
                                              for i, n in enumerate(sizes)}
        first = next((n for i, n in enumerate(sizes) if startup_wall / t["spark"][i] < 0.5), None)
        out["startup_share_below_half_from"] = first
    return out


# ------------------------------------------------------------------- main --

def settle(wait_idle, threshold=0.25):
    """The CPU busy fraction over 0.5 s just before a run; with wait_idle > 0, first wait up to
    that many seconds for the machine to be less than `threshold` busy."""
    return benchlib.wait_idle(wait_idle, threshold, first=0.5, then=1.0)


def parse_sizes(text):
    try:
        sizes = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        return None
    return sizes if sizes and sizes[0] >= 1 else None


def describe(engine, run):
    others = run.get("other_cores_busy_during")
    return (f"  {engine:6s} {run['wall_seconds']:8.2f} s  tree {run['peak_rss_tree_mib']:8.1f} MiB  "
            f"cpu {run['cpu_seconds']:7.2f} s  exit {run['exit_code']}"
            + benchlib.busy_note(run.get("cpu_busy_before"))
            + (f"  (other work used {others:.2f} cores during the run)" if others and others > 0.2 else ""))


def strip_stdout(run):
    run = dict(run)
    run.pop("stdout", None)
    return run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source-lake",
                    help="scaled lake (scale_lake.py) holding at least max(--replicas) replicas; read only")
    ap.add_argument("--work", help="folder for the per-size lakes, logs and result.json")
    ap.add_argument("--replicas", default="1,5,10,20,40", help="comma-separated sizes (default 1,5,10,20,40)")
    ap.add_argument("--repeats", type=int, default=2, help="runs per engine at the largest size (default 2)")
    ap.add_argument("--small-repeats", type=int, default=1,
                    help="runs per engine at every other size (default 1)")
    ap.add_argument("--startup-runs", type=int,
                    help="runs of spark_startup.py, Spark's fixed cost alone (default --repeats; 0: none)")
    ap.add_argument("--order", choices=("stedi-first", "alternate"), default="alternate",
                    help="stedi then Spark in every round, or swap every other round (default)")
    ap.add_argument("--stedi", default=benchlib.STEDI_RELEASE)
    ap.add_argument("--spark-python", default=sys.executable, help="interpreter with pyspark")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--spark-submit-args",
                    help="PYSPARK_SUBMIT_ARGS for the Spark runs, e.g. '--driver-memory 4g pyspark-shell'")
    ap.add_argument("--landing", choices=("auto", "link", "copy"), default="auto",
                    help="hard-link or copy the landing files into each engine's lake (auto: link when "
                         "the source lake is inside --work, copy otherwise)")
    ap.add_argument("--content-check-max", type=int, default=10,
                    help="also compare the rows themselves (order-independent digest) at sizes up to "
                         "this many replicas (default 10; 0: never)")
    ap.add_argument("--wait-idle", type=float, default=0.0,
                    help="before each run, wait up to this many seconds for the CPUs to be under 25%% busy "
                         "(default 0: do not wait; the busy figure is recorded either way)")
    ap.add_argument("--sample-interval", type=float, default=0.05, help="RSS sampling period, s")
    ap.add_argument("--linger-timeout", type=float, default=60.0,
                    help="seconds to wait for descendants that outlive the engine before killing them")
    ap.add_argument("--keep-lakes", action="store_true", help="keep each size's engine lakes and outputs")
    ap.add_argument("--result", help="result JSON path (default: <work>/result.json)")
    ap.add_argument("--reanalyse", metavar="RESULT_JSON",
                    help="do not run anything: recompute the analysis of a saved result.json and print it")
    args = ap.parse_args(argv)

    if args.reanalyse:
        return reanalyse(args.reanalyse)
    if not args.source_lake or not args.work:
        ap.error("--source-lake and --work are required (unless --reanalyse)")
    sizes = parse_sizes(args.replicas)
    if sizes is None:
        ap.error("--replicas takes a comma-separated list of positive integers")
    if args.repeats < 1 or args.small_repeats < 1:
        ap.error("--repeats and --small-repeats must be >= 1")
    startup_runs = args.repeats if args.startup_runs is None else args.startup_runs
    work = os.path.abspath(args.work)
    source_lake = os.path.abspath(args.source_lake)
    logs = os.path.join(work, "logs")
    os.makedirs(logs, exist_ok=True)
    result_path = args.result or os.path.join(work, "result.json")

    have = marker_replicas(source_lake)
    if have is None or have < sizes[-1]:
        log(f"error: {source_lake} holds {have} replica(s) (its .scale_lake.json); need {sizes[-1]}")
        return 2
    mode = args.landing
    if mode == "auto":
        mode = "link" if os.path.commonpath([source_lake, work]) == work else "copy"
    if benchlib.stedi_missing(args.stedi):
        return 2
    # A private copy of the binary, so a rebuild elsewhere during the sweep cannot swap it.
    stedi_built = os.path.abspath(args.stedi)
    args.stedi = os.path.join(work, "stedi")
    shutil.copy2(stedi_built, args.stedi)
    with open(args.stedi, "rb") as f:
        stedi_sha = hashlib.sha256(f.read()).hexdigest()[:16]
    if not become_subreaper():
        log("warning: could not become a child subreaper; the JVM's memory and CPU may be missed")

    # The Spark jobs, rendered by this stedi from the same rules it runs.
    jobs = os.path.join(work, "spark-jobs")
    if os.path.exists(jobs):
        shutil.rmtree(jobs)
    export = subprocess.run([args.stedi, "pipeline", "export", "--target", "spark",
                             "--profile", "strict", "--out", jobs], capture_output=True, text=True)
    if export.returncode != 0 or not os.path.exists(os.path.join(jobs, "run_pipeline.py")):
        log(f"error: stedi pipeline export failed (exit {export.returncode}):\n{export.stderr}")
        return 2

    # One pseudonym key for both engines: the source lake's, else one made for this work folder.
    key_file = os.path.join(source_lake, "_stedi", "pseudonym.key")
    if not os.path.exists(key_file):
        key_file = os.path.join(work, "pseudonym.key")
        if not os.path.exists(key_file):
            with open(key_file, "w") as f:
                f.write(secrets.token_hex(32) + "\n")

    spark_env = dict(os.environ)
    if args.spark_submit_args:
        spark_env["PYSPARK_SUBMIT_ARGS"] = args.spark_submit_args
    commands = {
        "stedi": lambda lake: [args.stedi, "pipeline", "run", "--lake", lake, "--profile", "strict", "--json"],
        "spark": lambda lake: [args.spark_python, os.path.join(jobs, "run_pipeline.py"), "--lake", lake,
                               "--master", args.master],
    }
    envs = {"stedi": None, "spark": spark_env}

    busy_before = benchlib.busy_before_runs()
    versions = {
        "java": subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.strip()
                .splitlines()[:1],
        "pyspark": subprocess.run([args.spark_python, "-c", "import pyspark; print(pyspark.__version__)"],
                                  capture_output=True, text=True).stdout.strip(),
        "stedi_commit": subprocess.run(["git", "-C", benchlib.REPO, "rev-parse", "--short", "HEAD"],
                                       capture_output=True, text=True).stdout.strip(),
        "stedi_binary": stedi_built,
        "stedi_binary_sha256_16": stedi_sha,
        "stedi_binary_mtime": time.strftime("%Y-%m-%dT%H:%M:%S%z",
                                            time.localtime(os.path.getmtime(stedi_built))),
    }
    result = {
        "source_lake": source_lake, "landing_mode": mode, "sizes": sizes,
        "repeats_at_largest": args.repeats, "repeats_other_sizes": args.small_repeats,
        "order": args.order, "master": args.master, "spark_submit_args": args.spark_submit_args,
        "sample_interval": args.sample_interval, "wait_idle": args.wait_idle,
        "machine": benchlib.machine_info(busy_before), "versions": versions,
        "commands": {"stedi": commands["stedi"]("<lake>"), "spark": commands["spark"]("<lake>"),
                     "export": export.args},
        "startup": [], "sizes_detail": {}, "summary": {}, "problems": [], "ok": False,
    }

    def save():
        result["finished"] = benchlib.finished()
        benchlib.write_result(result_path, result)

    # 1. Spark's fixed cost alone.
    startup_wall = None
    if startup_runs:
        log(f"== spark start-up alone ({startup_runs} run(s), master {args.master})")
        for i in range(startup_runs):
            busy = settle(args.wait_idle)
            run = run_tree([args.spark_python, os.path.join(HERE, "spark_startup.py"), "--master", args.master],
                           os.path.join(logs, f"spark-startup-{i + 1}"), args.sample_interval,
                           args.linger_timeout, env=spark_env)
            run["cpu_busy_before"] = busy
            run["report"] = benchlib.parse_report(run["stdout"])
            result["startup"].append(strip_stdout(run))
            log(describe("start", run))
            if run["exit_code"] != 0:
                benchlib.report_failure("spark_startup.py", run["exit_code"], os.path.join(logs, f"spark-startup-{i + 1}"))
                save()
                return 2
        startup_wall = benchlib.median(result["startup"], "wall_seconds", 3)

    # 2. The size sweep.
    for n in sizes:
        repeats = args.repeats if n == sizes[-1] else args.small_repeats
        lakes = {e: os.path.join(work, "lakes", f"r{n:03d}", e) for e in ENGINES}
        landing = None
        for engine in ENGINES:
            landing = make_lake(source_lake, lakes[engine], n, key_file, mode)
        for engine in ENGINES:
            warm_cache(lakes[engine])
            if mode == "link":
                break  # the same inodes: one read warms both
        log(f"== {n} replica(s): {landing[0]} landing files, {landing[1] / 1e6:.0f} MB; "
            f"{repeats} run(s) per engine")
        detail = {"replicas": n, "landing_files": landing[0], "landing_mb": round(landing[1] / 1e6, 1),
                  "runs": {e: [] for e in ENGINES}}
        result["sizes_detail"][str(n)] = detail
        for i in range(repeats):
            for engine in benchlib.round_order(ENGINES, args.order, i):
                clear_outputs(lakes[engine])
                prefix = os.path.join(logs, f"r{n:03d}-{engine}-{i + 1}")
                busy = settle(args.wait_idle)
                run = run_tree(commands[engine](lakes[engine]), prefix, args.sample_interval,
                               args.linger_timeout, env=envs[engine])
                run["run"] = i + 1
                run["cpu_busy_before"] = busy
                run["report"] = benchlib.parse_report(run["stdout"])
                detail["runs"][engine].append(strip_stdout(run))
                log(describe(engine, run))
                if run["exit_code"] != 0 or not run["report"] or not isinstance(run["report"].get("tables"), dict):
                    benchlib.report_failure(f"{engine} at {n} replica(s)", run["exit_code"], prefix)
                    result["problems"].append(f"{engine} failed at {n} replica(s); see {prefix}.out/.err")
                    save()
                    return 2

        # Row counts: every run of an engine the same, both engines equal, equal to n x the base,
        # and equal to the rows actually in the output files; quarantine counts equal too.
        problems = []
        counts = {}
        for engine in ENGINES:
            reports = [r["report"] for r in detail["runs"][engine]]
            tables = [{t: rep["tables"].get(t) for t in TABLE_ORDER} for rep in reports]
            if any(tb != tables[0] for tb in tables):
                problems.append(f"{engine}: counts differ between its runs at {n} replica(s): {tables}")
            counts[engine] = tables[-1]
            detail[f"{engine}_quarantined"] = reports[-1].get("quarantined")
        if detail["stedi_quarantined"] != detail["spark_quarantined"]:
            problems.append(f"quarantine counts differ at {n} replica(s): stedi {detail['stedi_quarantined']}, "
                            f"spark {detail['spark_quarantined']}")
        check_content = n <= args.content_check_max
        rows = []
        for t in TABLE_ORDER:
            row = {"table": t, "stedi": counts["stedi"][t], "spark": counts["spark"][t],
                   "expected": BASE_COUNTS[t] * n}
            ok = row["stedi"] == row["spark"] == row["expected"]
            if t in OUTPUT_DIRS:
                for engine in ENGINES:
                    folder = os.path.join(lakes[engine], OUTPUT_DIRS[t])
                    if check_content:
                        row[f"{engine}_in_files"], row[f"{engine}_digest"] = content_digest(folder)
                    else:
                        row[f"{engine}_in_files"] = count_rows(folder)
                    ok = ok and row[f"{engine}_in_files"] == row[engine]
                if check_content:
                    row["content_equal"] = row["stedi_digest"] == row["spark_digest"]
                    ok = ok and row["content_equal"]
            row["ok"] = bool(ok)
            if not ok:
                problems.append(f"MISMATCH at {n} replica(s) in {t}: {row}")
            rows.append(row)
        detail["counts"] = rows
        detail["content_checked"] = check_content
        summary = {}
        for engine in ENGINES:
            rs = detail["runs"][engine]
            summary[engine] = benchlib.summarise_runs(
                rs, ("wall_seconds", "median", 3), ("wall_seconds", "min", 3), ("peak_rss_tree_mib", "median", 1),
                ("peak_pss_tree_mib", "median", 1), ("peak_rss_sum_of_process_peaks_mib", "median", 1),
                ("child_ru_maxrss_mib", "median", 1), ("cpu_seconds", "median", 2))
            summary[engine]["other_cores_busy_max"] = max((r["other_cores_busy_during"] or 0) for r in rs)
        result["summary"][n] = summary
        log(f"   counts {'agree' if not problems else 'DISAGREE'} at {n} replica(s)"
            + (" (content too)" if check_content and not problems else ""))
        if not args.keep_lakes:
            shutil.rmtree(os.path.join(work, "lakes", f"r{n:03d}"))
        if problems:
            result["problems"] += problems
            save()
            log("FAILED: row counts disagree:\n  " + "\n  ".join(problems))
            print_counts(rows, n)
            return 1

    result["analysis"] = analyse(sizes, result["summary"], startup_wall)
    result["ok"] = True
    save()
    print_report(result, sizes, startup_wall, result_path)
    return 0


def reanalyse(path):
    """Recompute and print the analysis of a saved result.json (JSON turned the sizes into strings)."""
    with open(path) as f:
        result = json.load(f)
    sizes = sorted(int(n) for n in result["summary"])
    if not sizes:
        log(f"error: {path} has no completed sizes")
        return 2
    result["summary"] = {int(n): v for n, v in result["summary"].items()}
    startup = result.get("startup") or []
    startup_wall = benchlib.median(startup, "wall_seconds", 3) if startup else None
    result["analysis"] = analyse(sizes, result["summary"], startup_wall)
    print_report(result, sizes, startup_wall, path + " (re-analysed, not rewritten)")
    return 0 if result.get("ok") else 1


def print_counts(rows, n):
    print(f"\nrow counts at {n} replica(s)")
    print(f"{'table':26s}{'stedi':>12s}{'spark':>12s}{'expected':>12s}{'stedi file':>12s}{'spark file':>12s}"
          f"{'content':>9s}  ok")
    for row in rows:
        content = {True: "same", False: "DIFFERS", None: "-"}[row.get("content_equal")]
        print(f"{row['table']:26s}{row['stedi']!s:>12}{row['spark']!s:>12}{row['expected']:>12}"
              f"{row.get('stedi_in_files', '-')!s:>12}{row.get('spark_in_files', '-')!s:>12}{content:>9}  "
              + ("ok" if row["ok"] else "MISMATCH"))


def print_report(result, sizes, startup_wall, result_path):
    s = result["summary"]
    a = result["analysis"]
    print()
    print(f"{'replicas':>8s} {'landing MB':>10s} {'runs':>4s} | {'stedi s':>8s} {'spark s':>8s} {'spark/stedi':>11s} | "
          f"{'stedi MiB':>9s} {'spark MiB':>9s} {'spark/stedi':>11s} {'spark PSS':>9s} | {'stedi cpu':>9s} {'spark cpu':>9s} "
          f"{'others':>6s}")
    for n in sizes:
        st, sp = s[n]["stedi"], s[n]["spark"]
        mb = result["sizes_detail"][str(n)]["landing_mb"]
        print(f"{n:8d} {mb:10.0f} {sp['runs']:4d} | {st['wall_seconds_median']:8.2f} {sp['wall_seconds_median']:8.2f} "
              f"{a['time_ratio_spark_over_stedi'][n]:10.1f}x | "
              f"{st['peak_rss_tree_mib_median']:9.0f} {sp['peak_rss_tree_mib_median']:9.0f} "
              f"{a['memory_ratio_spark_over_stedi'][n]:10.1f}x {sp['peak_pss_tree_mib_median']:9.0f} | "
              f"{st['cpu_seconds_median']:9.2f} {sp['cpu_seconds_median']:9.2f} "
              f"{max(st['other_cores_busy_max'], sp['other_cores_busy_max']):6.2f}")
    print("(s: median wall seconds, spawn to exit of the engine's process; MiB: median peak of the summed RSS of "
          "its whole process tree, sampled; spark PSS: the same with shared pages split; cpu: user+sys s of the tree; others: the most cores "
          "other work kept busy, on average, during any run of that size)")
    if startup_wall:
        print(f"\nspark start-up alone (spark_startup.py, median of {len(result['startup'])}): {startup_wall:.2f} s; "
              "its share of Spark's time: "
              + ", ".join(f"{n}: {v:.0%}" for n, v in a["startup_share_of_spark_time"].items()))
    sd = a.get("spark_startup_stops_dominating")
    if sd:
        phrase = {"all_sizes": "all sizes", "largest_two": "the two largest sizes"}
        fitted = ", ".join(f"~{v:.0f} from the fit over {phrase.get(k[len('from_fit_'):], k)}"
                           for k, v in sd.items() if k.startswith("from_fit_") and v is not None)
        first = (f"first measured size passing it: {sd['first_measured_size']} (~{sd['interpolated_size']:.0f} "
                 "interpolated)" if sd["first_measured_size"] else "no measured size passes it")
        print(f"spark start-up stops dominating, rule {sd['rule']}: {first}" + (f"; {fitted}" if fitted else ""))
    for label, f in a["fits"].items():
        cross = (f"Spark would overtake stedi at ~{f['crossover_replicas']:.0f} replicas"
                 if f["crossover_replicas"] is not None and f["crossover_replicas"] > 0 else
                 "no crossover: Spark's time grows at least as fast per replica as stedi's")
        print(f"fit over {f['sizes']}: stedi {f['stedi_seconds']['intercept']:.2f} s + "
              f"{f['stedi_seconds']['per_replica']:.3f} s/replica; spark {f['spark_seconds']['intercept']:.2f} s + "
              f"{f['spark_seconds']['per_replica']:.3f} s/replica -> {cross}"
              + (f"; Spark's fixed part (intercept) equals its data part (slope x N) at "
                 f"~{f['spark_startup_equals_data_at']:.0f} replicas"
                 if f["spark_startup_equals_data_at"] and f["spark_startup_equals_data_at"] > 0 else ""))
    print("all row counts agree at every size")
    print(f"\nresult: {result_path}")


if __name__ == "__main__":
    sys.exit(main())
