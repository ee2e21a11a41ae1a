#!/usr/bin/env python3
"""Build the erasure benchmark's lake: `stedi generate` customers plus one consenting customer
with a large history, then `stedi pipeline run`, so every zone holds them.

The extra customer ("the subject"):

  * one customer record (Python json.dumps spacing, like the generated customer files), appended
    to the first generated customer landing file, so that file keeps its other customers and
    stedi has a line to blank rather than a file to delete;
  * --readings accelerometer readings and as many step-trainer readings at the same instants
    (one of each per instant, so every pair lands in machine_learning_curated), of a serial
    number no other customer holds, in batches of --per-file readings per landing file named
    like the ingest service names them: <source>-<sealed epoch ms>-<instance>-<id>.json;
  * one session per batch file, a day apart, every reading 50 ms after the last, all after the
    customer's consent (registration) date and before the generated customers' data.

After the pipeline run the funnel is checked: the subject must be in customer_trusted and
customers_curated once, and their --readings readings in accelerometer_trusted,
step_trainer_trusted and machine_learning_curated (found by subjectId, the HMAC-SHA256 of the
email under the lake's _stedi/pseudonym.key). Then every table's rows are counted (non-blank
lines of every file of the table's folder) with the subject's share, and everything the
benchmark needs is written to <out>/lake.json; the lake itself is <out>/pristine.

With --reuse an existing <out>/lake.json with the same parameters (and the same stedi binary) is
kept as it is. Standard library only.
"""

import argparse
import hashlib
import hmac
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lakecount  # noqa: E402

FORMAT = 2  # bump when the lake's layout or contents change
DAY_MS = 86_400_000
INSTANCE = "e7a5b3c1"  # the ingest instance id in the subject's batch file names


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def run(argv, **kw):
    log("   $ " + " ".join(argv))
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, **kw)
    if done.returncode != 0:
        log(f"error: exit {done.returncode}: {' '.join(argv)}")
        sys.exit(2)
    return done.stdout


def subject_identity(seed):
    """The subject's email and serial number, from the seed (not a name the generator uses)."""
    email = f"Morgan.Longhistory.{900000 + seed}@test.com"
    serial = str(uuid.uuid5(uuid.NAMESPACE_URL, f"stedi-erase-bench/{seed}/serial"))
    return email, serial


def write_subject(lake, email, serial, readings, per_file, seed):
    rng = random.Random(seed)
    registered = 1_640_995_200_000 - DAY_MS  # 2021-12-31, consent from the start
    record = {
        "customerName": "Morgan Longhistory", "email": email, "phone": "8015550000",
        "birthDay": "1980-01-01", "serialNumber": serial, "registrationDate": registered,
        "lastUpdateDate": registered, "shareWithResearchAsOfDate": registered,
        "shareWithPublicAsOfDate": registered, "shareWithFriendsAsOfDate": registered,
    }
    folder = os.path.join(lake, "customer", "landing")
    first = sorted(n for n in os.listdir(folder) if n.endswith(".json"))[0]
    path = os.path.join(folder, first)
    with open(path, "rb") as f:
        ends_with_newline = f.read().endswith(b"\n")
    with open(path, "ab") as f:
        f.write((b"" if ends_with_newline else b"\n") + json.dumps(record).encode() + b"\n")

    files = []
    batch_id = 1
    written = 0
    session = 0
    while written < readings:
        n = min(per_file, readings - written)
        start = 1_640_995_200_000 + session * DAY_MS + 18 * 3_600_000  # 18:00 UTC each day
        sealed = start + (n - 1) * 50 + 2000
        acc_lines = []
        step_lines = []
        x = y = z = 0.0
        distance = 60
        for i in range(n):
            t = start + i * 50
            x = round(rng.gauss(0.0, 1.5), 4)
            y = round(9.81 + rng.gauss(0.0, 1.0), 4)
            z = round(rng.gauss(0.0, 1.5), 4)
            distance = max(0, min(200, distance + rng.randint(-3, 3)))
            acc_lines.append(f'{{"user":"{email}","timestamp":{t},"x":{x},"y":{y},"z":{z}}}\n')
            step_lines.append(f'{{"sensorReadingTime":{t},"serialNumber":"{serial}","distanceFromObject":{distance}}}\n')
        for source, lines in (("accelerometer", acc_lines), ("step_trainer", step_lines)):
            name = f"{source}-{sealed}-{INSTANCE}-{batch_id}.json"
            with open(os.path.join(lake, source, "landing", name), "w") as f:
                f.writelines(lines)
            files.append(f"{source}/landing/{name}")
            batch_id += 1
        written += n
        session += 1
    return files


def subject_id(lake, email):
    with open(os.path.join(lake, "_stedi", "pseudonym.key")) as f:
        key = bytes.fromhex(f.read().strip())
    return hmac.new(key, email.encode(), hashlib.sha256).hexdigest()


def binary_id(path):
    st = os.stat(path)
    return {"path": os.path.abspath(path), "size": st.st_size, "mtime": int(st.st_mtime)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stedi", required=True)
    ap.add_argument("--out", required=True, help="folder for pristine/ and lake.json")
    ap.add_argument("--customers", type=int, default=300)
    ap.add_argument("--readings", type=int, default=1_000_000)
    ap.add_argument("--per-file", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args(argv)

    out = os.path.abspath(args.out)
    lake = os.path.join(out, "pristine")
    meta_path = os.path.join(out, "lake.json")
    params = {"format": FORMAT, "customers": args.customers, "readings": args.readings,
              "per_file": args.per_file, "seed": args.seed, "stedi": binary_id(args.stedi)}
    if args.reuse and os.path.exists(meta_path) and os.path.isdir(lake):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("params") == params:
            log(f"   reusing {lake} ({meta['bytes'] / 1e6:.0f} MB, {meta['files']} files)")
            return 0
        log("   lake parameters or stedi binary changed: building it again")

    started = time.perf_counter()
    if os.path.exists(meta_path):
        os.remove(meta_path)
    if os.path.exists(lake):
        shutil.rmtree(lake)
    os.makedirs(out, exist_ok=True)

    generated = json.loads(run([args.stedi, "generate", "--lake", lake, "--customers", str(args.customers),
                                "--seed", str(args.seed), "--json"]))
    email, serial = subject_identity(args.seed)
    log(f"   subject {email}, serial {serial}: {args.readings:,} readings in batches of {args.per_file:,}")
    subject_files = write_subject(lake, email, serial, args.readings, args.per_file, args.seed)
    pipeline = json.loads(run([args.stedi, "pipeline", "run", "--lake", lake, "--profile", "strict", "--json"]))
    subject = subject_id(lake, email)

    counts = lakecount.scan(lake, email, serial, subject)
    tables = counts["tables"]
    theirs = counts["subject_rows"]
    expected_subject = {
        "customer_landing": 1, "customer_trusted": 1, "customers_curated": 1,
        "accelerometer_landing": args.readings, "step_trainer_landing": args.readings,
        "accelerometer_trusted": args.readings, "step_trainer_trusted": args.readings,
        "machine_learning_curated": args.readings,
    }
    problems = [f"{t}: the subject has {theirs.get(t, 0)} rows, expected {n}"
                for t, n in expected_subject.items() if theirs.get(t, 0) != n]
    # The pipeline's landing counts leave out quarantined lines; its output tables must match the files.
    for t in ("customer_trusted", "accelerometer_trusted", "customers_curated", "step_trainer_trusted",
              "machine_learning_curated"):
        if pipeline["tables"].get(t) != tables[t]:
            problems.append(f"{t}: pipeline reported {pipeline['tables'][t]}, the files hold {tables[t]}")
    if problems:
        log("error: the lake's funnel does not hold the subject as planned:\n  " + "\n  ".join(problems))
        return 1

    meta = {
        "params": params,
        "lake": lake,
        "email": email,
        "serial": serial,
        "subject_id": subject,
        "subject_files": subject_files,
        "generated": generated,
        "pipeline_tables": pipeline["tables"],
        "pipeline_quarantined": pipeline.get("quarantined"),
        "tables": tables,
        "subject_rows": theirs,
        "table_files": counts["table_files"],
        "files": counts["files"],
        "bytes": counts["bytes"],
        "seconds": round(time.perf_counter() - started, 1),
    }
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    log(f"   lake {lake}: {counts['bytes'] / 1e6:.0f} MB in {counts['files']} files, built in {meta['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
