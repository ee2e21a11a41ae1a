"""Combines the rounds of the decoder benchmark into one table (standard library only).

    python3 compare.py RESULTS.jsonl [--machine TEXT] [--note TEXT]

RESULTS.jsonl holds the lines that stedi_decode and mavlink_decode printed, every round; each
line is one stream of one side with the seconds of its timed passes. The table gives, per
stream, the median over all passes of all rounds, as MB/s (10^6 bytes) and messages/s, and the
ratio stedi/MAVLink of throughput (above 1: stedi decodes faster). Exits 1 when the two sides
did not decode streams of the same size, or a side failed its own checks (run.sh stops first).
"""

import argparse
import json
import statistics
import sys

STREAMS = [
    ("small", "one reading a frame (26 B on the wire)"),
    ("large", "a 238-byte payload a frame (249-250 B)"),
    ("small-noisy", "small, 1% of frames hit by one wrong byte"),
    ("large-noisy", "large, 1% of frames hit by one wrong byte"),
]


def load(path):
    runs = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            row = json.loads(line)
            key = (row["side"], row["stream"])
            if key in runs:
                prev = runs[key]
                for field in ("bytes", "frames", "messages"):
                    if prev[field] != row[field]:
                        sys.exit(f"error: {key} changed {field} between rounds")
                prev["seconds"] += row["seconds"]
            else:
                runs[key] = row
    return runs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--machine", default="")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    runs = load(args.results)
    problems = []
    header = (
        f"{'stream':<12} {'side':<8} {'MB':>6} {'frames':>8} {'delivered':>9} "
        f"{'median s':>9} {'MB/s':>8} {'msg/s':>9} {'spread':>7} {'stedi/MAVLink':>13}"
    )
    print(header)
    print("-" * len(header))
    for stream, _ in STREAMS:
        sides = {side: runs.get((side, stream)) for side in ("stedi", "mavlink")}
        if sides["stedi"] and sides["mavlink"]:
            a, b = sides["stedi"]["bytes"], sides["mavlink"]["bytes"]
            if abs(a - b) > 0.001 * max(a, b):
                problems.append(f"{stream}: stedi decoded {a} bytes, MAVLink {b}")
        rates = {}
        for side in ("stedi", "mavlink"):
            row = sides[side]
            if not row:
                continue
            times = row["seconds"]
            median = statistics.median(times)
            rates[side] = row["bytes"] / median
            # The spread: (slowest - fastest) / median over every timed pass.
            spread = (max(times) - min(times)) / median
            ratio = ""
            if side == "mavlink" and "stedi" in rates:
                ratio = f"{rates['stedi'] / rates['mavlink']:.2f}x"
            print(
                f"{stream:<12} {('MAVLink' if side == 'mavlink' else 'stedi'):<8} "
                f"{row['bytes'] / 1e6:>6.1f} {row['frames']:>8} {row['messages']:>9} "
                f"{median:>9.4f} {row['bytes'] / median / 1e6:>8.0f} "
                f"{row['messages'] / median / 1e6:>8.2f}M {spread:>6.0%} {ratio:>13}"
            )
    samples = {len(r["seconds"]) for r in runs.values()}
    print()
    print(f"median of {'/'.join(str(n) for n in sorted(samples))} timed passes per stream and side")
    print("msg/s: messages delivered per second (a large stedi frame carries 45 readings)")
    print("spread: (slowest - fastest pass) / median")
    if args.machine:
        print(f"machine: {args.machine}")
    if args.note:
        print(args.note)
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
