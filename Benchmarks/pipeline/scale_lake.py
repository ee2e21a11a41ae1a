#!/usr/bin/env python3
"""Write a benchmark lake holding N replicas of the STEDI landing data.

Replica 0 is the source data unchanged, so `--replicas 1` reproduces the
original dataset. Replica r >= 1 gets:

  * emails with "+r<r>" inserted before the "@" (customer.email and
    accelerometer.user, so the two stay joinable);
  * serial numbers replaced by uuid5(namespace, "<serial>/r<r>") (customer and
    step_trainer, so the two stay joinable);
  * every timestamp field (registrationDate, lastUpdateDate,
    share*AsOfDate, timestamp, sensorReadingTime) shifted by r days.

Keys absent in a source record stay absent. Every replica is self-contained
(its emails and serials are disjoint from every other replica's), so each
table of a pipeline that follows the same rules has exactly N times the rows
of the unscaled run.

Output: <lake>/<table>/landing/<source-file-stem>-r<rrr>.json, NDJSON. The
output is byte-for-byte deterministic. A marker file <lake>/.scale_lake.json
records what was written, so callers can reuse an existing lake.
"""

import argparse
import glob
import json
import multiprocessing
import os
import sys
import time
import uuid

TABLES = ("customer", "accelerometer", "step_trainer")
DAY_MS = 86_400_000
SERIAL_NAMESPACE = uuid.UUID("6f1b1c1e-5d2a-4e8e-9a57-3c0de5ab1e00")

# Field name -> kind of rewrite applied per replica.
VARYING = {
    "customer": {
        "email": "email",
        "serialNumber": "serial",
        "registrationDate": "ts",
        "lastUpdateDate": "ts",
        "shareWithResearchAsOfDate": "ts",
        "shareWithPublicAsOfDate": "ts",
        "shareWithFriendsAsOfDate": "ts",
    },
    "accelerometer": {"user": "email", "timestamp": "ts"},
    "step_trainer": {"serialNumber": "serial", "sensorReadingTime": "ts"},
}

# Filled in by load_templates() in the parent; forked workers inherit it.
# table -> list of (source stem, list of line templates)
# A line template is a list whose items are either a constant str or a
# (kind, value) tuple to be rendered for the replica.
TEMPLATES = {}


def email_for(email, r):
    if r == 0:
        return email
    local, at, domain = email.rpartition("@")
    if not at:  # no "@": append the tag so the value still changes per replica
        return f"{email}+r{r}"
    return f"{local}+r{r}@{domain}"


def serial_for(serial, r):
    if r == 0:
        return serial
    return str(uuid.uuid5(SERIAL_NAMESPACE, f"{serial}/r{r}"))


def make_template(table, record):
    varying = VARYING[table]
    parts = []
    const = "{"
    first = True
    for key, value in record.items():
        const += ("" if first else ", ") + json.dumps(key) + ": "
        first = False
        kind = varying.get(key)
        if kind is None or value is None:
            const += json.dumps(value)
            continue
        if kind == "ts" and not isinstance(value, int):
            raise SystemExit(f"{table}.{key}: expected an integer epoch-ms, got {value!r}")
        if kind != "ts" and not isinstance(value, str):
            raise SystemExit(f"{table}.{key}: expected a string, got {value!r}")
        parts.append(const)
        parts.append((kind, value))
        const = ""
    const += "}\n"
    parts.append(const)
    return parts


def load_templates(source):
    for table in TABLES:
        files = sorted(glob.glob(os.path.join(source, table, "landing", "*.json")))
        if not files:
            raise SystemExit(f"no input files in {source}/{table}/landing")
        entries = []
        for path in files:
            stem = os.path.splitext(os.path.basename(path))[0]
            lines = []
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        lines.append(make_template(table, json.loads(line)))
            entries.append((stem, lines))
        TEMPLATES[table] = entries


def write_replica(args):
    lake, r = args
    shift = r * DAY_MS
    email_cache = {}
    serial_cache = {}
    rows = {t: 0 for t in TABLES}
    nbytes = 0
    for table in TABLES:
        out_dir = os.path.join(lake, table, "landing")
        for stem, lines in TEMPLATES[table]:
            buf = []
            append = buf.append
            for parts in lines:
                for p in parts:
                    if p.__class__ is str:
                        append(p)
                        continue
                    kind, value = p
                    if kind == "ts":
                        append(str(value + shift))
                    elif kind == "email":
                        s = email_cache.get(value)
                        if s is None:
                            s = email_cache[value] = json.dumps(email_for(value, r))
                        append(s)
                    else:
                        s = serial_cache.get(value)
                        if s is None:
                            s = serial_cache[value] = json.dumps(serial_for(value, r))
                        append(s)
            data = "".join(buf).encode("utf-8")
            path = os.path.join(out_dir, f"{stem}-r{r:03d}.json")
            tmp = path + ".part"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
            rows[table] += len(lines)
            nbytes += len(data)
    return r, rows, nbytes


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    default_source = os.path.normpath(
        os.path.join(here, "..", "..", "..", "shared", "datasets", "stedi-udacity"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default=default_source,
                    help="folder with {customer,accelerometer,step_trainer}/landing/*.json "
                         "(default: %(default)s)")
    ap.add_argument("--lake", required=True, help="lake folder to write (landing folders are replaced)")
    ap.add_argument("--replicas", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--reuse", action="store_true",
                    help="do nothing if the lake's marker says it already holds this many replicas "
                         "of this source")
    args = ap.parse_args(argv)
    if args.replicas < 1:
        ap.error("--replicas must be >= 1")

    source = os.path.abspath(args.source)
    lake = os.path.abspath(args.lake)
    marker = os.path.join(lake, ".scale_lake.json")
    want = {"source": source, "replicas": args.replicas, "version": 1}
    if args.reuse and os.path.exists(marker):
        try:
            with open(marker) as f:
                have = json.load(f)
        except (OSError, ValueError):
            have = {}
        if all(have.get(k) == v for k, v in want.items()):
            print(f"reusing {lake} ({args.replicas} replicas)", file=sys.stderr)
            return 0

    t0 = time.perf_counter()
    load_templates(source)
    if os.path.exists(marker):
        os.remove(marker)
    for table in TABLES:
        out_dir = os.path.join(lake, table, "landing")
        os.makedirs(out_dir, exist_ok=True)
        for name in os.listdir(out_dir):
            if name.endswith(".json") or name.endswith(".part"):
                os.remove(os.path.join(out_dir, name))

    work = [(lake, r) for r in range(args.replicas)]
    totals = {t: 0 for t in TABLES}
    nbytes = 0
    jobs = max(1, min(args.jobs, args.replicas))
    if jobs == 1:
        results = map(write_replica, work)
        pool = None
    else:
        pool = multiprocessing.get_context("fork").Pool(jobs)
        results = pool.imap_unordered(write_replica, work)
    for _, rows, nb in results:
        for t in TABLES:
            totals[t] += rows[t]
        nbytes += nb
    if pool is not None:
        pool.close()
        pool.join()

    summary = dict(want, rows=totals, bytes=nbytes)
    with open(marker, "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(f"wrote {lake}: {args.replicas} replicas, "
          + ", ".join(f"{t} {totals[t]:,}" for t in TABLES)
          + f", {nbytes / 1e6:.0f} MB in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
