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


def wait_idle(limit, threshold=0.10, first=1.0, then=2.0):
    """Waits (up to `limit` s) for the CPUs to be under `threshold` busy, sampling `first` s, then
    `then` s at a time; the last sample (a fraction, None off Linux)."""
    deadline = time.monotonic() + limit
    busy = cpu_busy(first)
    while busy is not None and busy > threshold and time.monotonic() < deadline:
        busy = cpu_busy(then)
    return busy


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


def rounds(names, repeats, order, skip=()):
    """(i, name) for each round i (0-based) and each name in that round's order (round_order),
    leaving out the names in `skip` (looked at as the rounds go: a list of the ones that failed)."""
    for i in range(repeats):
        for name in round_order(names, order, i):
            if name not in skip:
                yield i, name


def rounds_when_idle(names, repeats, wait, note="", **idle):
    """rounds(names, repeats, "alternate"), each after wait_idle(wait, **idle) and the progress line
    "== round i/repeats: name<note>": (i, name, how busy the CPUs were just before)."""
    for i, name in rounds(names, repeats, "alternate"):
        before = wait_idle(wait, **idle)
        log(f"== round {i + 1}/{repeats}: {name}{note}" + busy_note(before))
        yield i, name, before


def stedi_missing(path):
    """True (after saying so) when there is no executable stedi at path."""
    if os.access(path, os.X_OK):
        return False
    log(f"error: no stedi binary at {path}")
    return True


Child = collections.namedtuple("Child", "wall cpu rss_kib code stdout")


def run_child(argv, log_prefix, cwd=REPO, env=None, watch=None):
    """Run argv with stdout/stderr in <log_prefix>.out/.err. Returns a Child: wall seconds
    (spawn to exit), user+sys CPU seconds and peak RSS KiB (os.wait4), exit code, stdout.
    watch(proc, t0), when given, is called once the child is spawned (t0: time.perf_counter()
    then) and may return a function that is called once it has exited (e.g. to stop a sampler)."""
    out_path, err_path = log_prefix + ".out", log_prefix + ".err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, env=env)
        finish = watch(proc, t0) if watch else None
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if finish:
            finish()
    with open(out_path, encoding="utf-8", errors="replace") as f:
        stdout = f.read()
    return Child(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, code, stdout)


def measure(argv, log_prefix):
    """How busy the CPUs were over the 0.5 s before, then run_child(argv, log_prefix) and the JSON
    report it printed: (busy, Child, report or None)."""
    busy = cpu_busy(0.5)
    child = run_child(argv, log_prefix)
    return busy, child, parse_report(child.stdout)


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


def median_present(runs, key):
    """Median of run[key] over the runs where it is not None (unrounded), None when there is none."""
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def self_reported_median(runs):
    """Median of the "seconds" the contenders reported themselves, None when one did not."""
    if all(isinstance(r["report"].get("seconds"), (int, float)) for r in runs):
        return round(statistics.median(r["report"]["seconds"] for r in runs), 3)
    return None


def summarise_runs(runs, *stats):
    """{"runs": how many}, then "<key>_<stat>" for each (key, stat, digits) of stats: the median
    ("median"), smallest ("min") or largest ("max") run[key], rounded to `digits`; then
    "self_reported_seconds_median"."""
    out = {"runs": len(runs)}
    for key, stat, digits in stats:
        if stat == "median":
            out[f"{key}_median"] = median(runs, key, digits)
        else:
            out[f"{key}_{stat}"] = round((min if stat == "min" else max)(r[key] for r in runs), digits)
    out["self_reported_seconds_median"] = self_reported_median(runs)
    return out


def ratios(summary, a, b, keys):
    """{name: a's median / b's median, to 2 places} for each name: summary key of `keys`,
    or None unless both a and b have a summary."""
    if a not in summary or b not in summary:
        return None
    return {name: round(summary[a][key] / summary[b][key], 2) for name, key in keys.items()}


def finished():
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def write_result(path, result, announce=False):
    """The results JSON (indented, a final newline), its folder made first; with announce, say so."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    if announce:
        log(f"== wrote {path}")


# ----------------------------------------------------------------- tables --

def fmt(value, digits=0):
    """A figure with thousands separators: "-" for None, `digits` places for a float, else a
    whole number (rounded)."""
    if value is None:
        return "-"
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}"
    return f"{round(value):,}"


def markdown_table(columns, rows):
    """The lines of a Markdown table. columns: (title, align) pairs, align "l" or "r"; rows: lists
    of cells already formatted (see fmt)."""
    lines = ["| " + " | ".join(title for title, _ in columns) + " |",
             "|" + "|".join("---:" if align == "r" else "---" for _, align in columns) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


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


def warm_cache(lake):
    """Read the landing files once, so no engine timed pays for a cold page cache; their bytes."""
    nbytes = 0
    for source in SOURCES:
        folder = os.path.join(lake, source, "landing")
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), "rb") as f:
                while chunk := f.read(1 << 22):
                    nbytes += len(chunk)
    return nbytes


def table_files(folder):
    """(path, in_log) of every file of a table folder: its visible files, partition folders
    included (names starting with "." or "_" left out), in_log False; everything under its
    `_delta_log` folder, in_log True. Nothing when there is no folder."""
    for dirpath, dirnames, filenames in os.walk(folder):
        in_log = os.path.relpath(dirpath, folder).split(os.sep)[0] == "_delta_log"
        if not in_log:
            dirnames[:] = sorted(d for d in dirnames if d == "_delta_log" or not d.startswith((".", "_")))
        for name in sorted(filenames):
            if in_log or not name.startswith((".", "_")):
                yield os.path.join(dirpath, name), in_log


def table_bytes(folder):
    """What a table folder holds on disk (None: no folder): "data_bytes" and "data_files" of its
    data files, "log_bytes" and "log_files" of its `_delta_log` (see table_files). Sizes are the
    files' lengths (st_size), not the blocks they occupy."""
    if not os.path.isdir(folder):
        return None
    out = {"data_bytes": 0, "data_files": 0, "log_bytes": 0, "log_files": 0}
    for path, in_log in table_files(folder):
        kind = "log" if in_log else "data"
        out[f"{kind}_bytes"] += os.path.getsize(path)
        out[f"{kind}_files"] += 1
    return out


def count_rows(folder):
    """Rows in an NDJSON output folder: non-empty lines of its visible files (None: no folder)."""
    if not os.path.isdir(folder):
        return None
    rows = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "_"))]
        for name in filenames:
            if name.startswith((".", "_")):
                continue
            with open(os.path.join(dirpath, name), "rb") as f:
                rows += sum(1 for line in f if line.strip())
    return rows
