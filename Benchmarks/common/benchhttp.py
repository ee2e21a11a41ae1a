"""What the benchmarks that drive an HTTP service share (Benchmarks/ingest, Benchmarks/fleet):
one request, a service or peer as a child process (started, waited for until it prints
`listening on http://HOST:PORT` and answers /healthz, stopped with SIGTERM and measured), its
Prometheus /metrics scraped, a device token from `stedi token issue`, and the NDJSON lines it
landed. Standard library only.

    sys.path.insert(0, os.path.join(HERE, "..", "common"))
    import benchhttp
"""

import collections
import os
import queue
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import benchlib


def http(method, url, body=None, headers=None, timeout=10):
    """(status, body bytes) of one request; (None, error text) when it could not be made."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        return None, str(error).encode()


def pin(cpu):
    """The taskset prefix that pins a command to one CPU (none for None). taskset execs, so the
    pid of the child started with it is the command's own."""
    return ["taskset", "-c", str(cpu)] if cpu is not None else []


# ---------------------------------------------------------------- metrics --

def scrape_metrics(base_url, timeout=10):
    """The text of <base_url>/metrics (bytes), or None unless it answered 200."""
    status, body = http("GET", base_url + "/metrics", timeout=timeout)
    return body if status == 200 else None


def metric_sum(body, name, label, values):
    """The sum of the samples of counter `name` whose `label` is one of `values`, in a
    Prometheus text exposition (0 when there is none)."""
    pattern = re.compile(rb"^" + re.escape(name.encode()) + rb"\{" + label.encode() + rb'="('
                         + b"|".join(re.escape(v.encode()) for v in values) + rb')"\} (\d+)', re.M)
    return sum(int(m.group(2)) for m in pattern.finditer(body))


def acknowledged_readings(base_url, sources, timeout=10):
    """stedi's own count of readings acknowledged with 202 from these sources (its
    stedi_ingest_records_acknowledged_total on /metrics), None when /metrics is unreadable."""
    body = scrape_metrics(base_url, timeout)
    if body is None:
        return None
    return metric_sum(body, "stedi_ingest_records_acknowledged_total", "source", sources)


def settled(read, quiet=0.3, timeout=15.0):
    """read() once two readings `quiet` seconds apart agree (the last one after `timeout` s)."""
    deadline = time.monotonic() + timeout
    last = read()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = read()
        if now == last:
            return now
        last = now
    return last


# ---------------------------------------------------------------- service --

Stopped = collections.namedtuple("Stopped", "code seconds cpu rss_kib")


class Service:
    """A service or peer as a child process in its own session: stdout drained in a thread into
    <log_prefix>.out (and a queue of lines), stderr in <log_prefix>.err."""

    LISTENING = re.compile(r"listening on http://\S+:(\d+)")

    def __init__(self, name, argv, log_prefix, env=None, cwd=benchlib.REPO):
        self.name = name
        self.argv = argv
        self.prefix = log_prefix
        self.err = open(log_prefix + ".err", "wb")
        self.out = open(log_prefix + ".out", "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.err, stdin=subprocess.DEVNULL,
                                     env=env, cwd=cwd, text=True, start_new_session=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()
        self.port = None
        self.started = time.monotonic()
        self.ready_seconds = None

    def _drain(self):
        for line in self.proc.stdout:
            self.out.write(line)
            self.out.flush()
            self.lines.put(line)
        self.lines.put(None)

    def wait_ready(self, timeout=60, healthz_timeout=None):
        """Its first stdout line must say `listening on http://HOST:PORT`; then /healthz must
        answer 200, within `timeout` s of this call (or `healthz_timeout` s of that line).
        Kills it and raises RuntimeError otherwise."""
        deadline = time.monotonic() + timeout
        try:
            first = self.lines.get(timeout=timeout)
        except queue.Empty:
            first = None
        match = self.LISTENING.match(first or "")
        if not match:
            self.kill()
            raise RuntimeError(f"{self.name}: no 'listening on' line (got {first!r}); see {self.prefix}.err")
        self.port = int(match.group(1))
        if healthz_timeout is not None:
            deadline = time.monotonic() + healthz_timeout
        while http("GET", self.url("/healthz"), timeout=2)[0] != 200:
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"{self.name}: /healthz never answered 200")
            time.sleep(0.1)
        self.ready_seconds = time.monotonic() - self.started
        return self

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self, timeout=180, poll=0.02):
        """SIGTERM, then wait for the exit (SIGKILL to its session after `timeout` s): a Stopped of
        its exit code, seconds to exit, user+sys CPU seconds and peak RSS KiB (os.wait4)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        while True:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > t0 + timeout:
                os.killpg(self.proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(self.proc.pid, 0)
                break
            time.sleep(poll)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - t0
        self.err.close()
        return Stopped(self.proc.returncode, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)

    def kill(self):
        """SIGKILL to its session, unless it has exited (safe to call in a finally)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()


# ------------------------------------------------------------------ stedi --

def issue_token(stedi, lake, device):
    """A device token from `stedi token issue --lake LAKE --device DEVICE` (STEDI_TOKEN_KEY set)."""
    os.makedirs(lake, exist_ok=True)
    out = subprocess.run([stedi, "token", "issue", "--lake", lake, "--device", device],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def landed_lines(lake, folders):
    """(NDJSON lines under the lake's `folders`, files, leftover hidden temp files, bytes)."""
    lines = files = temps = size = 0
    for sub in folders:
        for folder, _, names in os.walk(os.path.join(lake, sub)):
            for name in names:
                if name.startswith("."):
                    temps += 1
                    continue
                files += 1
                size += os.path.getsize(os.path.join(folder, name))
                with open(os.path.join(folder, name), "rb") as f:
                    while chunk := f.read(1 << 20):
                        lines += chunk.count(b"\n")
    return lines, files, temps, size
