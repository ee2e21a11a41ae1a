"""What the benchmarks' compare.py scripts share: running a contender as a
child process and measuring it from outside (wall time around the child,
CPU time and peak RSS from os.wait4), sampling how busy the machine is,
medians and ratios over the runs, and writing result.json.

Standard library only: it is imported by whichever interpreter runs
compare.py (a benchmark's virtualenv). Import it with

    sys.path.insert(0, os.path.join(HERE, "..", "common"))
    import benchlib
"""

import collections
import json
import os
import platform
import statistics
import subprocess
import sys
import time

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
STEDI_RELEASE = os.path.join(REPO, ".build", "release", "stedi")


def log(*parts):
    """Progress, warnings and errors: stderr, so stdout keeps only the results."""
    print(*parts, file=sys.stderr)


# ---------------------------------------------------------------- machine --

def cpu_busy(seconds=1.0):
    """Fraction of all CPUs busy over the next `seconds` (from /proc/stat), or None off Linux."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    if total1 == total0:
        return 0.0
    return round(1 - (idle1 - idle0) / (total1 - total0), 2)


def busy_before_runs(detail=""):
    """Sample the CPUs for 2 s before the first run; warn when more than 20% were busy."""
    busy = cpu_busy(2.0)
    if busy is not None and busy > 0.2:
        log(f"warning: {busy:.0%} of the CPUs were busy with other work just before the "
            f"runs; that skews the timings{detail}")
    return busy


def busy_note(busy):
    """The suffix of a run's progress line when the CPUs were busy just before it."""
    return f"  (CPU {busy:.0%} busy before)" if busy and busy > 0.1 else ""


def machine_info(busy_before):
    return {"cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "cpu_busy_before": busy_before}


# ---------------------------------------------------------------- running --

def parse_names(text, allowed, unique=False):
    """The comma-separated names of `text`, or None when empty, unknown (or repeated, with unique)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or any(n not in allowed for n in names):
        return None
    if unique and len(set(names)) != len(names):
        return None
    return names


def round_order(names, order, i):
    """Who runs in round i (0-based): the given order, reversed every other round with "alternate"."""
    names = list(names)
    if order == "alternate" and i % 2 == 1:
        names.reverse()
    return names


def stedi_missing(path):
    """True (after saying so) when there is no executable stedi at path."""
    if os.access(path, os.X_OK):
        return False
    log(f"error: no stedi binary at {path}")
    return True


Child = collections.namedtuple("Child", "wall cpu rss_kib code stdout")


def run_child(argv, log_prefix, cwd=REPO):
    """Run argv with stdout/stderr in <log_prefix>.out/.err. Returns a Child: wall seconds
    (spawn to exit), user+sys CPU seconds and peak RSS KiB (os.wait4), exit code, stdout."""
    out_path, err_path = log_prefix + ".out", log_prefix + ".err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    with open(out_path, encoding="utf-8", errors="replace") as f:
        stdout = f.read()
    return Child(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, code, stdout)


def parse_report(text):
    """The JSON object a contender printed: all of stdout, else its last line that is one."""
    text = text.strip()
    for candidate in [text] + list(reversed(text.splitlines())):
        candidate = candidate.strip()
        if candidate.startswith("{"):
            try:
                obj = json.loads(candidate)
            except ValueError:
                continue
            if isinstance(obj, dict):
                return obj
    return None


def tail(path, n=20):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def report_failure(name, code, log_prefix):
    log(f"error: {name} failed (exit {code}); see {log_prefix}.out/.err\n" + tail(log_prefix + ".err"))


# ---------------------------------------------------------------- summary --

def median(runs, key, digits=None):
    """Median of run[key] over runs, rounded to `digits` (to an int without)."""
    return round(statistics.median(r[key] for r in runs), digits)


def self_reported_median(runs):
    """Median of the "seconds" the contenders reported themselves, None when one did not."""
    if all(isinstance(r["report"].get("seconds"), (int, float)) for r in runs):
        return round(statistics.median(r["report"]["seconds"] for r in runs), 3)
    return None


def ratios(summary, a, b, keys):
    """{name: a's median / b's median, to 2 places} for each name: summary key of `keys`,
    or None unless both a and b have a summary."""
    if a not in summary or b not in summary:
        return None
    return {name: round(summary[a][key] / summary[b][key], 2) for name, key in keys.items()}


def finished():
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def write_result(path, result):
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")


# The lake's tables, shared by the pipeline and Spark benchmarks.
TABLE_ORDER = [
    "customer_landing", "accelerometer_landing", "step_trainer_landing",
    "customer_trusted", "accelerometer_trusted", "customers_curated",
    "step_trainer_trusted", "machine_learning_curated",
]
# Row counts of the strict profile on the unscaled stedi-udacity data (one replica).
BASE_COUNTS = {
    "customer_landing": 956,
    "accelerometer_landing": 81273,
    "step_trainer_landing": 28680,
    "customer_trusted": 482,
    "accelerometer_trusted": 32025,
    "customers_curated": 464,
    "step_trainer_trusted": 11297,
    "machine_learning_curated": 32025,
}
# Output table -> folder inside a lake (every engine writes the same layout).
OUTPUT_DIRS = {
    "customer_trusted": "customer/trusted",
    "accelerometer_trusted": "accelerometer/trusted",
    "customers_curated": "customer/curated",
    "step_trainer_trusted": "step_trainer/trusted",
    "machine_learning_curated": "step_trainer/curated",
}
SOURCES = ("customer", "accelerometer", "step_trainer")
ZONES_WRITTEN = ("trusted", "curated", "quarantine")


def clear_outputs(root):
    """Remove every folder an engine writes under root and its last-run record (never the landing
    zone or the pseudonym key)."""
    import shutil
    for source in SOURCES:
        for zone in ZONES_WRITTEN:
            path = os.path.join(root, source, zone)
            if os.path.isdir(path):
                shutil.rmtree(path)
    path = os.path.join(root, "_stedi", "last-run.json")
    if os.path.exists(path):
        os.remove(path)
