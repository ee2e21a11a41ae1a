#!/usr/bin/env python3
"""Hostile-client probes against a real `stedi serve` on loopback (issue 15, items 5 and 6).

For each probe, while the hostile connections are held: GET /healthz on a fresh connection every
100 ms, on the ingest port (`healthz_*`) and on `--health-port` (`health_port_*`), each from a
checker process of its own (latency: median and max, and how many did not answer 200), one authorised POST of 10
readings on a fresh connection (its status), and the service's resident memory (before, and the
peak during the probe, from /proc; the peak is reset between probes when run as root).

Probes (counts are flags):
  idle      N connections that send nothing
  slowloris N connections that send a request head one byte per connection every 200 ms
  withheld  N POSTs with a valid token whose body lacks its last byte (Content-Length B)
  large     N concurrent POSTs of B bytes of real readings with a valid token (202 or 503)

Usage: python3 Benchmarks/hostile/probe.py --stedi .build/release/stedi [--probes idle,slowloris,withheld,large]
       [--connections 2000] [--bodies 48] [--body-mib 16] [--hold 5] [--client-cpus 1]
       [-- extra `stedi serve` flags]
Loopback only. Raises its own descriptor limit to the hard limit.
"""

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def rss_mib(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def reset_peak(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear:
            clear.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0; needs privileges)
        return True
    except OSError:
        return False


def connect(port, timeout=10.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(head[9:12]), body


def exchange(port, method, path, token=None, body=b"", timeout=10.0):
    started = time.monotonic()
    try:
        s = connect(port, timeout)
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\nContent-Type: application/x-ndjson\r\n"
        if method == "POST":
            head += f"Content-Length: {len(body)}\r\n"
        s.sendall(head.encode() + b"\r\n" + body)
        status, payload = read_response(s)
        s.close()
    except OSError:
        status, payload = None, b""
    return status, payload, time.monotonic() - started


def readings(start, count, serial):
    return "".join(
        f'{{"sensorReadingTime":{1_700_000_000_000 + i},"serialNumber":"{serial}","distanceFromObject":{100 + i % 200}}}\n'
        for i in range(start, start + count)).encode()


class Service:
    def __init__(self, stedi, lake, extra):
        os.makedirs(lake, exist_ok=True)
        self.token = subprocess.run([stedi, "token", "issue", "--lake", lake, "--device", "P-1"], check=True,
                                    capture_output=True, text=True).stdout.strip()
        self.err = open(os.path.join(lake, "..", "serve.err"), "wb")
        self.proc = subprocess.Popen([stedi, "serve", "--lake", lake, "--port", "0", "--health-port", "0",
                                      "--batch-max-age", "1"] + extra,
                                     stdout=subprocess.PIPE, stderr=self.err, text=True,
                                     preexec_fn=lambda: os.sched_setaffinity(0, ALL_CPUS))
        ports = {}
        while len(ports) < 2:
            line = self.proc.stdout.readline()
            kind = "listening" if line.startswith("listening on ") else "health" if line.startswith("health on ") else None
            if kind is None:
                raise SystemExit(f"stedi serve did not start: {line}")
            ports[kind] = int(line.strip().rsplit(":", 1)[1])
        self.port, self.health_port = ports["listening"], ports["health"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def health_loop(port, hold):
    """GET /healthz on a fresh connection every 100 ms for `hold` seconds; prints the results as JSON."""
    os.sched_setaffinity(0, ALL_CPUS)
    latencies, failures = [], 0
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        status, _, elapsed = exchange(port, "GET", "/healthz")
        latencies.append(elapsed * 1000)
        failures += status != 200
        time.sleep(0.1)
    print(json.dumps({"latencies": latencies, "failures": failures}))


def measure(service, hold):
    """Health every 100 ms for `hold` seconds on each port, then one authorised POST; returns the figures.

    Each health checker is a process of its own, as a real one (a load balancer, the kubelet) is:
    in this process it would wait for the interpreter lock behind the hostile threads, and that
    wait would be counted as the service's latency.
    """
    checkers = {name: subprocess.Popen([sys.executable, __file__, "--health-loop", str(port), str(hold)],
                                       stdout=subprocess.PIPE, text=True)
                for name, port in (("healthz", service.port), ("health_port", service.health_port))}
    figures = {}
    for name, checker in checkers.items():
        out, _ = checker.communicate()
        health = json.loads(out)
        latencies = health["latencies"]
        figures.update({f"{name}_count": len(latencies), f"{name}_not_200": health["failures"],
                        f"{name}_median_ms": round(statistics.median(latencies), 1),
                        f"{name}_max_ms": round(max(latencies), 1)})
    status, _, post_elapsed = exchange(service.port, "POST", "/v1/step-trainer/readings", service.token,
                                       readings(int(time.time() * 1000) % 1_000_000_000, 10, "P-1"), timeout=60)
    figures.update({"authorised_post": status, "authorised_post_ms": round(post_elapsed * 1000, 1)})
    return figures


def probe_idle(service, args):
    held = [connect(service.port) for _ in range(args.connections)]
    figures = measure(service, args.hold)
    for s in held:
        s.close()
    return figures


def probe_slowloris(service, args):
    held = [connect(service.port) for _ in range(args.connections)]
    head = b"POST /v1/step-trainer/readings HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    stop = threading.Event()
    closed = []

    def trickle():
        sent = 0
        open_ = list(held)
        while open_ and not stop.is_set():
            byte = head[sent:sent + 1] or b"a"
            still = []
            for s in open_:
                try:
                    s.send(byte)
                    still.append(s)
                except OSError:
                    closed.append(s)
            open_ = still
            sent += 1
            time.sleep(0.2)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    figures = measure(service, args.hold)
    stop.set()
    thread.join()
    figures["closed_by_server_during_hold"] = len(closed)
    for s in held:
        s.close()
    return figures


def probe_withheld(service, args):
    size = args.body_mib << 20
    head = (f"POST /v1/step-trainer/readings HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {service.token}\r\n"
            f"Content-Type: application/x-ndjson\r\nContent-Length: {size}\r\n\r\n").encode()
    body = b" " * (size - 1)
    held = []
    lock = threading.Lock()

    def hold_one():
        try:
            s = connect(service.port, timeout=60)
            s.sendall(head + body)
            with lock:
                held.append(s)
        except OSError:
            pass

    threads = [threading.Thread(target=hold_one) for _ in range(args.bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    figures = measure(service, args.hold)
    figures["bodies_held"] = len(held)
    for s in held:
        s.close()
    return figures


def probe_large(service, args):
    per_line = len(readings(0, 1, "P-1"))
    body = readings(0, (args.body_mib << 20) // per_line, "P-1")
    statuses = []
    lock = threading.Lock()

    def post():
        status, _, _ = exchange(service.port, "POST", "/v1/step-trainer/readings", service.token, body, timeout=120)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=post) for _ in range(args.bodies)]
    for t in threads:
        t.start()
    figures = measure(service, args.hold)
    for t in threads:
        t.join()
    figures["large_statuses"] = {str(s): statuses.count(s) for s in sorted(set(statuses), key=str)}
    return figures


ALL_CPUS = os.sched_getaffinity(0)
PROBES = {"idle": probe_idle, "slowloris": probe_slowloris, "withheld": probe_withheld, "large": probe_large}


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--health-loop":
        return health_loop(int(sys.argv[2]), float(sys.argv[3]))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stedi", default=".build/release/stedi")
    p.add_argument("--probes", default="idle,slowloris,withheld,large")
    p.add_argument("--connections", type=int, default=2000, help="idle and slowloris connections")
    p.add_argument("--bodies", type=int, default=48, help="withheld and large bodies")
    p.add_argument("--body-mib", type=int, default=16)
    p.add_argument("--hold", type=float, default=5, help="seconds each probe is measured while held")
    p.add_argument("--client-cpus", default="",
                   help="confine the hostile clients (this process) to these CPUs, e.g. 1: on loopback their "
                        "sending costs CPU that a remote client's would not; the service and the checkers keep all")
    p.add_argument("extra", nargs="*", help="extra `stedi serve` flags (after --)")
    args = p.parse_args()
    if args.client_cpus:
        os.sched_setaffinity(0, {int(cpu) for cpu in args.client_cpus.split(",")})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = tempfile.mkdtemp(prefix="stedi-hostile-")
    try:
        results = {"stedi_serve_flags": args.extra, "client_cpus": args.client_cpus or "all", "uptime": open("/proc/loadavg").read().split()[:3]}
        for name in args.probes.split(","):
            service = Service(args.stedi, os.path.join(work, name, "lake"), args.extra)
            time.sleep(0.5)
            before, _ = rss_mib(service.proc.pid)
            reset_peak(service.proc.pid)
            figures = PROBES[name](service, args)
            now, peak = rss_mib(service.proc.pid)
            figures.update({"rss_before_mib": round(before, 1), "rss_peak_mib": round(peak, 1),
                            "rss_after_mib": round(now, 1)})
            service.stop()
            results[name] = figures
            print(name, json.dumps(figures), file=sys.stderr)
        print(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
