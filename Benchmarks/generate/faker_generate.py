#!/usr/bin/env python3
"""Write a synthetic STEDI landing zone with Faker: the Python baseline for
`stedi generate`.

    faker_generate.py --lake DIR --customers N [--days D] [--seed S]
                      [--flaws all|none] [--json] [--rows-per-file R]

Writes NDJSON files

    <DIR>/customer/landing/customer-00000.json
    <DIR>/accelerometer/landing/accelerometer-00000.json, ...
    <DIR>/step_trainer/landing/step_trainer-00000.json, ...
    <DIR>/step_events/landing/step_events-00000.json, ...

in the line formats of the public STEDI data and prints one JSON object:
{"generator": "faker", "rows": {...}, "seconds": s, ...}.

What it simulates, per customer: a Faker identity (name, phone, birthday),
a uuid4 serial drawn from the seeded RNG, registration / update / consent
dates, and for each of the D days 0-2 sessions of 60-180 s. A session is a
stream of step-trainer readings about every 100 ms, each with about 3 phone
(accelerometer) readings at the same timestamp, and a step event per step
(left/right alternating, ~1.6-2.2 steps/s). The readings are independent
random draws (Gaussian x/y/z in m/s^2, uniform distance in cm): there is no
motion model, so this side does less work per reading than `stedi generate`.

It is meant to be a fair, idiomatic Python implementation: one random.Random,
json encoders built once, lines gathered per session and written with
writelines() into buffered files. It is not tuned beyond that (no
multiprocessing, no hand-built JSON strings).
"""

import argparse
import json
import os
import random
import sys
import time
import uuid

from faker import Faker

# 2024-03-01T00:00:00Z in epoch milliseconds: the first simulated day.
EPOCH_MS = 1709251200000
DAY_MS = 86_400_000
GRAVITY = 9.80665

TABLES = ("customer", "accelerometer", "step_trainer", "step_events")


class TableWriter:
    """NDJSON lines into <lake>/<table>/landing/<table>-NNNNN.json, a new file
    every `rows_per_file` lines (0 = one file)."""

    def __init__(self, lake, table, rows_per_file, buffer_size=1 << 20):
        self.folder = os.path.join(lake, table, "landing")
        os.makedirs(self.folder, exist_ok=True)
        self.table = table
        self.rows_per_file = rows_per_file
        self.buffer_size = buffer_size
        self.rows = 0
        self.files = 0
        self._in_file = 0
        self._f = None

    def _open(self):
        if self._f is not None:
            self._f.close()
        path = os.path.join(self.folder, f"{self.table}-{self.files:05d}.json")
        self._f = open(path, "w", encoding="utf-8", buffering=self.buffer_size)
        self.files += 1
        self._in_file = 0

    def write_lines(self, lines):
        """lines: a list of strings, each ending in a newline."""
        i = 0
        n = len(lines)
        while i < n:
            if self._f is None or (self.rows_per_file and self._in_file >= self.rows_per_file):
                self._open()
            take = n - i
            if self.rows_per_file:
                take = min(take, self.rows_per_file - self._in_file)
            self._f.writelines(lines if take == n else lines[i:i + take])
            self._in_file += take
            self.rows += take
            i += take

    def close(self):
        if self._f is None:
            self._open()  # an empty table still gets its (empty) file
        self._f.close()
        self._f = None


def make_customer(fake, rng, taken_emails, day0_ms, days):
    first = fake.first_name()
    last = fake.last_name()
    email = f"{first}.{last}@test.com"
    if email in taken_emails:
        # Faker has a few thousand names; keep emails unique like real accounts.
        email = f"{first}.{last}{len(taken_emails)}@test.com"
    taken_emails.add(email)
    registered = day0_ms + rng.randrange(DAY_MS)
    updated = registered + rng.randrange(max(1, days) * DAY_MS)
    record = {
        "customerName": f"{first} {last}",
        "email": email,
        "phone": fake.numerify("##########"),
        "birthDay": fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
        "serialNumber": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "registrationDate": registered,
        "lastUpdateDate": updated,
    }
    # Each consent is given with some probability, at a time between
    # registration and the last update; absent keys mean "never given".
    for key, p in (("shareWithResearchAsOfDate", 0.7),
                   ("shareWithPublicAsOfDate", 0.4),
                   ("shareWithFriendsAsOfDate", 0.5)):
        if rng.random() < p:
            record[key] = rng.randint(registered, updated)
    return record


def session_lines(rng, email, serial, start_ms, seconds, enc, acc_lines, st_lines, ev_lines):
    """Append one session's readings and step events; returns nothing."""
    gauss = rng.gauss
    randint = rng.randint
    uniform = rng.uniform
    t = start_ms
    end = start_ms + int(seconds * 1000)
    # Steps: alternate feet at a per-session cadence with some jitter.
    step_ms = 1000.0 / uniform(1.6, 2.2)
    next_step = t + uniform(0, step_ms)
    foot = "left" if rng.random() < 0.5 else "right"
    while t < end:
        st_lines.append(enc({"sensorReadingTime": t, "serialNumber": serial,
                             "distanceFromObject": randint(150, 320)}) + "\n")
        for _ in range(randint(2, 4)):
            acc_lines.append(enc({"user": email, "timestamp": t,
                                  "x": round(gauss(0.0, 2.5), 3),
                                  "y": round(gauss(0.0, 2.5), 3),
                                  "z": round(gauss(GRAVITY, 2.0), 3)}) + "\n")
        while next_step <= t:
            ev_lines.append(enc({"user": email, "serialNumber": serial,
                                 "timestamp": int(next_step), "foot": foot}) + "\n")
            foot = "right" if foot == "left" else "left"
            next_step += step_ms * uniform(0.9, 1.1)
        t += randint(95, 105)


def generate(lake, customers, days, seed, rows_per_file):
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    enc = json.JSONEncoder(separators=(",", ":")).encode  # compact, built once

    writers = {t: TableWriter(lake, t, rows_per_file) for t in TABLES}
    taken = set()
    try:
        for _ in range(customers):
            customer = make_customer(fake, rng, taken, EPOCH_MS, days)
            writers["customer"].write_lines([json.dumps(customer) + "\n"])
            email, serial = customer["email"], customer["serialNumber"]
            for day in range(days):
                day_ms = EPOCH_MS + day * DAY_MS
                acc, st, ev = [], [], []
                for _ in range(rng.randint(0, 2)):
                    # Sessions between 07:00 and 21:00, 60-180 s long.
                    start = day_ms + rng.randrange(7 * 3_600_000, 21 * 3_600_000)
                    session_lines(rng, email, serial, start, rng.uniform(60, 180), enc, acc, st, ev)
                writers["accelerometer"].write_lines(acc)
                writers["step_trainer"].write_lines(st)
                writers["step_events"].write_lines(ev)
    finally:
        for w in writers.values():
            w.close()
    return {t: w.rows for t, w in writers.items()}, {t: w.files for t, w in writers.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lake", required=True)
    ap.add_argument("--customers", type=int, required=True)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--flaws", choices=("all", "none"), default="none",
                    help="accepted for the same CLI shape as stedi generate; this generator "
                         "writes no deliberately flawed records either way")
    ap.add_argument("--json", action="store_true",
                    help="accepted for the same CLI shape; the JSON report is always printed")
    ap.add_argument("--rows-per-file", type=int, default=1_000_000,
                    help="start a new file every R lines of a table (0 = one file per table)")
    args = ap.parse_args(argv)
    if args.customers < 0 or args.days < 0 or args.rows_per_file < 0:
        ap.error("--customers, --days and --rows-per-file must be >= 0")

    t0 = time.perf_counter()
    rows, files = generate(os.path.abspath(args.lake), args.customers, args.days, args.seed,
                           args.rows_per_file)
    seconds = time.perf_counter() - t0
    json.dump({"generator": "faker", "lake": os.path.abspath(args.lake),
               "customers": args.customers, "days": args.days, "seed": args.seed,
               "flaws": "none", "rows": rows, "files": files,
               "seconds": round(seconds, 3)}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
