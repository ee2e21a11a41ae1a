#!/usr/bin/env python3
"""Drives the STEDI phone capture page (simulators/phone/index.html) in headless Chromium.

Opens <base>/phone#token=<token> in a phone-sized headless Chromium, emulates the phone's motion
sensor with a known pattern, taps Start, lets it record for --seconds, taps Stop (the page then
sends what it still holds), waits until the page shows every reading acknowledged by the service,
and prints a JSON summary on stdout:

    {"path": "sensor-override" | "dispatched-events", "sent": n, "acknowledged": n,
     "errors": [...], "user": "...", ...}

It exits 0 only when the page recorded something and every reading it collected was acknowledged;
otherwise it exits 1 with the reasons in "errors" (and on stderr). Exit 2: bad arguments or no
Chromium.

How motion is emulated ("path" in the summary):
  * "sensor-override": the DevTools protocol's virtual sensors (Emulation.setSensorOverrideEnabled
    and Emulation.setSensorOverrideReadings) for "accelerometer" (what the page's
    DeviceMotionEvent.accelerationIncludingGravity comes from), plus "linear-acceleration" and
    "gyroscope" so the events look like a phone's. The events are trusted (isTrusted) and come at
    Chromium's own 60 Hz: the page is exercised as on an Android phone. Chromium rounds
    accelerometer readings to multiples of 0.1 m/s^2 (an anti-fingerprinting measure), so the
    pattern is on that grid. Chromium 156 (Debian 12's) takes this path; every type must be fed
    once enabled, or Chromium holds back devicemotion altogether.
  * "dispatched-events": when the override is missing (older Chromium) or does not reach the
    page, a script in the page dispatches synthetic DeviceMotionEvents at 60 Hz with the same
    pattern, one in ten with a null accelerationIncludingGravity (which the page must skip).
  The path taken is printed on stderr and in the summary; --path forces one.

The pattern: x = 0.3, y = -0.5 and z = round(9.81 + 0.5 * sin(2 pi t / 2 s), 1) m/s^2, t the
time since the feed began. The summary's "pattern" gives x, y and the z values in the order fed
(consecutive repeats collapsed), so a checker can tell each landed reading's z was fed and that
they land in the order fed.

Standard library only. Chromium is found as $STEDI_CHROMIUM or chromium, chromium-browser,
google-chrome on PATH, and spoken to with --remote-debugging-pipe: the DevTools protocol as
NUL-terminated JSON messages, Chromium reading fd 3 and writing fd 4.

By hand:  python3 drive_phone.py --base http://127.0.0.1:8080 --token T --seconds 3
"""

import argparse
import base64
import fcntl
import json
import math
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

X, Y = 0.3, -0.5
Z_MEAN, Z_AMPLITUDE, Z_PERIOD_S = 9.81, 0.5, 2.0
FEED_STEP_S = 0.05


def z_at(t):
    return round(Z_MEAN + Z_AMPLITUDE * math.sin(2 * math.pi * t / Z_PERIOD_S), 1)


class Failure(Exception):
    pass


class NoChromium(Failure):
    pass


def find_chromium(explicit=None):
    for candidate in [explicit, os.environ.get("STEDI_CHROMIUM")]:
        if candidate:
            path = shutil.which(candidate) or (candidate if os.access(candidate, os.X_OK) else None)
            if not path:
                raise NoChromium(f"no Chromium at {candidate!r}")
            return path
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]:
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """Headless Chromium and a DevTools protocol connection over --remote-debugging-pipe."""

    def __init__(self, executable, verbose=False):
        self.verbose = verbose
        self.profile = tempfile.mkdtemp(prefix="stedi-phone-chromium-")
        to_child_r, self._write = os.pipe()
        self._read, from_child_w = os.pipe()
        # Park the child's ends above 9 so that moving them to 3 and 4 cannot overwrite each other.
        child_in = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def child_fds():
            os.dup2(child_in, 3)  # dup2 leaves the copies inheritable
            os.dup2(child_out, 4)

        self.log_path = os.path.join(self.profile, "chromium.log")
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [
                executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows", "--mute-audio", "about:blank",
            ],
            pass_fds=(3, 4), preexec_fn=child_fds, start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=self._log)
        os.close(child_in)
        os.close(child_out)
        self._next_id = 0
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._waiting = {}
        self._closed = False
        self.events = queue.Queue()
        self._reader = threading.Thread(target=self._read_messages, daemon=True)
        self._reader.start()

    def _read_messages(self):
        buffer = b""
        while True:
            try:
                chunk = os.read(self._read, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if self.verbose and "method" in message:
                    print("cdp event:", raw[:300].decode(errors="replace"), file=sys.stderr)
                waiter = self._waiting.pop(message.get("id"), None) if "id" in message else None
                if waiter:
                    waiter.put(message)
                else:
                    self.events.put(message)
        with self._lock:
            self._closed = True
            waiting, self._waiting = self._waiting, {}
        for waiter in waiting.values():
            waiter.put({"error": {"message": "Chromium closed the DevTools pipe"}})

    def send(self, method, params=None, session=None, timeout=15):
        with self._lock:
            if self._closed:
                raise Failure(f"{method}: Chromium is gone (its log: {self.log_tail()})")
            self._next_id += 1
            ident = self._next_id
            waiter = queue.Queue()
            self._waiting[ident] = waiter
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        with self._write_lock:  # the sensor feeder's thread sends too
            while data:
                data = data[os.write(self._write, data):]
        try:
            reply = waiter.get(timeout=timeout)
        except queue.Empty:
            raise Failure(f"{method}: no answer from Chromium within {timeout} s (its log: {self.log_tail()})")
        if "error" in reply:
            raise CommandError(method, reply["error"])
        return reply["result"]

    def log_tail(self, lines=5):
        """The end of Chromium's own output, less its complaints about the absent D-Bus."""
        try:
            with open(self.log_path, "rb") as log:
                text = log.read().decode(errors="replace")
                return " | ".join([l for l in text.strip().splitlines() if "dbus" not in l][-lines:])
        except OSError:
            return ""

    def close(self):
        try:
            if self.process.poll() is None:
                self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:  # Chromium's helpers (renderer, zygote, ...) share its process group
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        self.process.wait()
        for fd in (self._write, self._read):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class CommandError(Failure):
    def __init__(self, method, error):
        super().__init__(f"{method}: {error.get('message')} {error.get('data', '')}".strip())
        self.error = error


class Page:
    def __init__(self, browser):
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def send(self, method, params=None, timeout=15):
        return self.browser.send(method, params, self.session, timeout)

    def evaluate(self, expression, await_promise=False, user_gesture=False, timeout=15):
        reply = self.send("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": await_promise,
            "userGesture": user_gesture}, timeout)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise Failure(f"in the page: {text}")
        return reply["result"].get("value")


# Read what the page shows, element by element (the page's own ids).
READ_PAGE = """(() => {
  if (!document.body || !document.getElementById('log')) return {state: null};
  const text = (id) => { const e = document.getElementById(id); return e ? e.textContent.trim() : null; };
  const number = (id) => Number(text(id));
  return {
    state: document.body.dataset.state, who: text('who'), notice: text('notice'), hint: text('hint'),
    error: text('error'), rate: number('rate'), collected: number('collected'), sent: number('sent'),
    acknowledged: number('acked'), queued: number('queued'), dropped: number('dropped'),
    refused: number('refused'),
    log: [...document.querySelectorAll('#log li')].map(
      (li) => ({error: li.classList.contains('error'), text: li.textContent})),
  };
})()"""

# Resolves with the first devicemotion event's accelerationIncludingGravity, or null.
PROBE = """new Promise((resolve) => {
  const done = (value) => { removeEventListener('devicemotion', on); clearTimeout(timer); resolve(value); };
  const on = (e) => { const a = e.accelerationIncludingGravity;
    if (a && a.x != null) done({x: a.x, y: a.y, z: a.z, trusted: e.isTrusted}); };
  const timer = setTimeout(() => done(null), %d);
  addEventListener('devicemotion', on);
})"""

# The in-page feeder of the dispatched-events path: the same pattern at 60 Hz.
FEEDER = """(() => {
  const feed = window.__stediFeed = {log: [], timer: null, n: 0};
  const t0 = performance.now();
  const z = (t) => Math.round((%(mean)r + %(amplitude)r * Math.sin(2 * Math.PI * t / %(period)r)) * 10) / 10;
  feed.timer = setInterval(() => {
    feed.n++;
    if (feed.n %% 10 === 0) {
      dispatchEvent(new DeviceMotionEvent('devicemotion', {interval: 16}));
      return;
    }
    const value = z((performance.now() - t0) / 1000);
    if (feed.log[feed.log.length - 1] !== value) feed.log.push(value);
    dispatchEvent(new DeviceMotionEvent('devicemotion', {
      accelerationIncludingGravity: {x: %(x)r, y: %(y)r, z: value},
      acceleration: {x: 0, y: 0, z: value - 9.81}, rotationRate: {alpha: 0, beta: 0, gamma: 0}, interval: 16}));
  }, 16);
  return true;
})()""" % {"mean": Z_MEAN, "amplitude": Z_AMPLITUDE, "period": Z_PERIOD_S, "x": X, "y": Y}


def info(message):
    print(f"drive_phone: {message}", file=sys.stderr, flush=True)


class SensorFeeder:
    """Feeds the virtual sensors the pattern from a thread, every FEED_STEP_S."""

    def __init__(self, page, types):
        self.page, self.types = page, types
        self.log = []
        self.error = None
        self._stop = threading.Event()
        self._thread = None

    def set(self, z):
        readings = {"accelerometer": (X, Y, z), "linear-acceleration": (0.0, 0.0, round(z - 9.8, 1)),
                    "gyroscope": (0.0, 0.0, 0.0)}
        for kind in self.types:
            x, y, zz = readings[kind]
            self.page.send("Emulation.setSensorOverrideReadings",
                           {"type": kind, "reading": {"xyz": {"x": x, "y": y, "z": zz}}})

    def start(self):
        def run():
            t0 = time.monotonic()
            try:
                while not self._stop.is_set():
                    z = z_at(time.monotonic() - t0)
                    # Logged before it is set: a reading may reach the page as soon as it is.
                    if not self.log or self.log[-1] != z:
                        self.log.append(z)
                    self.set(z)
                    self._stop.wait(FEED_STEP_S)
            except Exception as error:  # reported by stop()
                self.error = error
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        if self.error:
            raise Failure(f"feeding the virtual sensors failed: {self.error}")


def enable_sensor_override(page):
    """Enables the virtual sensors; returns the types enabled, or raises when accelerometer can't be."""
    try:
        page.send("Emulation.setSensorOverrideEnabled", {"enabled": True, "type": "accelerometer"})
    except CommandError as error:
        raise Failure(f"this Chromium has no accelerometer override ({error})")
    types = ["accelerometer"]
    for kind in ["linear-acceleration", "gyroscope"]:
        try:
            page.send("Emulation.setSensorOverrideEnabled", {"enabled": True, "type": kind})
            types.append(kind)
        except CommandError:
            pass
    return types


def disable_sensor_override(page, types):
    for kind in types:
        try:
            page.send("Emulation.setSensorOverrideEnabled", {"enabled": False, "type": kind})
        except Failure:
            pass


def click(page, element_id):
    """Taps the element as a user would: mouse press and release at its centre (a user gesture)."""
    box = page.evaluate(f"""(() => {{
      const e = document.getElementById({json.dumps(element_id)});
      if (!e) return null;
      e.scrollIntoView({{block: 'center'}});
      const r = e.getBoundingClientRect();
      return {{x: r.left + r.width / 2, y: r.top + r.height / 2, disabled: e.disabled}};
    }})()""")
    if box is None:
        raise Failure(f"the page has no #{element_id}")
    if box["disabled"]:
        raise Failure(f"#{element_id} is disabled")
    for kind in ["mousePressed", "mouseReleased"]:
        page.send("Input.dispatchMouseEvent", {
            "type": kind, "x": box["x"], "y": box["y"], "button": "left", "buttons": 1 if kind == "mousePressed" else 0,
            "clickCount": 1})


def wait_for(page, predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        try:
            shown = page.evaluate(READ_PAGE)
            problem = None
        except Failure as error:  # e.g. while the page is being replaced by the next one
            shown, problem = None, str(error)
        if shown and predicate(shown):
            return shown
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout} s waiting for {what}; the page shows "
                          f"{page_summary(shown) if shown else problem}")
        time.sleep(0.1)


def page_summary(shown):
    keys = ["state", "notice", "error", "collected", "sent", "acknowledged", "queued", "dropped", "refused"]
    return json.dumps({k: shown.get(k) for k in keys})


def drive(args, summary, context):
    """Runs the scenario; leaves the browser and page in context for main to read and close."""
    executable = find_chromium(args.chromium)
    if not executable:
        raise NoChromium("no Chromium: install Debian's chromium (apt-get install -y chromium), or set "
                      "STEDI_CHROMIUM to a Chromium or Chrome executable")
    browser = context["browser"] = Browser(executable, args.verbose)
    summary["chromium"] = executable
    version = browser.send("Browser.getVersion")["product"]
    summary["browser"] = version
    page = context["page"] = Page(browser)
    page.send("Runtime.enable")
    page.send("Page.enable")
    # A phone-sized, touch screen.
    page.send("Emulation.setDeviceMetricsOverride",
              {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    if args.ios_permission:
        # Stands in for iOS Safari's permission prompt: answers as told, and records whether
        # the page asked from within a tap (iOS refuses otherwise).
        page.send("Page.addScriptToEvaluateOnNewDocument", {"source": """
          window.__stediPermissionAsks = [];
          DeviceMotionEvent.requestPermission = () => {
            window.__stediPermissionAsks.push(navigator.userActivation.isActive);
            return Promise.resolve(%s);
          };""" % json.dumps(args.ios_permission)})

    types = []
    path = None
    if args.path in ("auto", "sensor-override"):
        try:
            types = enable_sensor_override(page)
            feeder = SensorFeeder(page, types)
            feeder.set(z_at(0))
        except Failure as error:
            if args.path == "sensor-override":
                raise
            info(f"sensor override unavailable: {error}")
            types = []

    url = args.base.rstrip("/") + "/phone#token=" + args.token
    info(f"opening {args.base.rstrip('/')}/phone#token=… in {version}")
    navigation = page.send("Page.navigate", {"url": url})
    if navigation.get("errorText"):
        raise Failure(f"cannot open {args.base}/phone: {navigation['errorText']}")
    shown = wait_for(page, lambda s: s["state"] not in (None, "loading"), 15, "the page to load")
    summary["user"] = shown["who"][len("Recording as "):] if shown["who"].startswith("Recording as ") else None
    if shown["state"] == "refused":
        raise Failure(f"the page refuses to record: {shown['who']}: {shown['notice']}")
    if shown["state"] != "ready":
        raise Failure(f"the page is not ready to record: {page_summary(shown)}")

    if types:
        probe = page.evaluate(PROBE % 2000, await_promise=True)
        if probe and abs(probe["z"] - z_at(0)) < 1e-6 and abs(probe["x"] - X) < 1e-6:
            path = "sensor-override"
        else:
            disable_sensor_override(page, types)
            if args.path == "sensor-override":
                raise Failure(f"the sensor override does not reach devicemotion (probe: {probe})")
            info(f"the sensor override does not reach devicemotion (probe: {probe})")
    if path is None:
        path = "dispatched-events"
    summary["path"] = path
    info(f"motion path: {path}" + (f" ({', '.join(types)})" if path == "sensor-override" else ""))

    summary["started_ms"] = int(time.time() * 1000)
    if path == "sensor-override":
        feeder.start()
    else:
        page.evaluate(FEEDER)
    try:
        click(page, "start")
        if args.ios_permission:
            shown = wait_for(page, lambda s: s["state"] not in ("ready", "asking"), 5, "an answer to Start")
            asks = page.evaluate("window.__stediPermissionAsks")
            summary["permission_asks"] = asks
            if asks != [True]:
                raise Failure(f"the page must ask for motion permission once, from the tap; it asked {asks}")
            if shown["state"] == "denied":
                raise Failure(f"the page did not record: motion permission denied; it says: {shown['notice']}")
        wait_for(page, lambda s: s["state"] == "recording", 5, "recording to start")
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            shown = page.evaluate(READ_PAGE)
            summary["rate_hz"] = max(summary.get("rate_hz", 0), shown["rate"])
            if shown["state"] != "recording":
                break
            time.sleep(0.2)
        if shown["state"] == "recording":
            click(page, "stop")
    finally:
        if path == "sensor-override":
            feeder.stop()
            fed = feeder.log
        else:
            fed = page.evaluate("clearInterval(window.__stediFeed.timer), window.__stediFeed.log")
        summary["pattern"] = {"x": X, "y": Y, "z": fed}
    summary["stopped_ms"] = int(time.time() * 1000)
    shown = wait_for(page, lambda s: s["state"] in ("stopped", "rejected", "refused"), args.timeout,
                     "the page to send everything")
    return shown


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the service's address, e.g. http://127.0.0.1:8080")
    parser.add_argument("--token", required=True, help="a user token (stedi token issue --user EMAIL)")
    parser.add_argument("--seconds", type=float, default=3, help="how long to record (default 3)")
    parser.add_argument("--timeout", type=float, default=60,
                        help="how long to wait after Stop for everything to be acknowledged (default 60)")
    parser.add_argument("--path", choices=["auto", "sensor-override", "dispatched-events"], default="auto",
                        help="how to emulate motion (default: the sensor override when it reaches the page)")
    parser.add_argument("--ios-permission", choices=["granted", "denied"],
                        help="emulate iOS's DeviceMotionEvent.requestPermission, answering this")
    parser.add_argument("--chromium", help="the browser executable (default $STEDI_CHROMIUM, then PATH)")
    parser.add_argument("--screenshot", help="save a PNG of the page at the end here")
    parser.add_argument("--verbose", action="store_true", help="print DevTools events on stderr")
    args = parser.parse_args()
    if args.seconds <= 0:
        parser.error("--seconds must be positive")

    summary = {"path": None, "sent": 0, "acknowledged": 0, "errors": [], "user": None}
    errors = summary["errors"]
    context = {}
    shown = None

    # A bound on the whole run, whatever hangs.
    limit = args.seconds + args.timeout + 90

    def give_up(signum, frame):
        raise Failure("terminated" if signum == signal.SIGTERM else f"gave up after {limit:.0f} s")
    signal.signal(signal.SIGALRM, give_up)
    signal.signal(signal.SIGTERM, give_up)
    signal.alarm(int(limit))
    try:
        try:
            shown = drive(args, summary, context)
        except NoChromium as error:
            info(str(error))
            errors.append(str(error))
            print(json.dumps(summary))
            return 2
        except Failure as error:
            errors.append(str(error))
        except KeyboardInterrupt:
            errors.append("interrupted")
        page = context.get("page")
        if page:
            shown = read_outcome(page, context["browser"], shown, args, summary)
    except Failure as error:
        errors.append(str(error))
    finally:
        signal.alarm(0)
        if context.get("browser"):
            context["browser"].close()

    if shown and "collected" in shown:
        for key in ["collected", "sent", "acknowledged", "queued", "dropped", "refused"]:
            summary[key] = shown[key]
        summary["state"] = shown["state"]
        summary["page_errors"] = [entry["text"] for entry in shown["log"] if entry["error"]][::-1]
        if errors:
            pass  # the reason is already there
        elif shown["state"] == "rejected":
            errors.append(f"the page stopped: {shown['notice']}")
        elif shown["state"] != "stopped":
            errors.append(f"the page did not finish: {page_summary(shown)}")
        else:
            if shown["collected"] == 0:
                errors.append("the page collected no readings")
            if shown["queued"] != 0:
                errors.append(f"{shown['queued']} readings still wait to be sent")
            lost = shown["dropped"] + shown["refused"]
            if lost:
                errors.append(f"{shown['dropped']} readings dropped and {shown['refused']} refused by the service: "
                              f"{'; '.join(summary['page_errors'][-3:])}")
            if (shown["acknowledged"] != shown["collected"] - lost
                    or shown["sent"] != shown["collected"] - shown["dropped"]):
                errors.append(f"collected {shown['collected']}, sent {shown['sent']}, acknowledged "
                              f"{shown['acknowledged']}, dropped {shown['dropped']}, refused {shown['refused']}")
    elif not errors:
        errors.append("the page could not be read")
    for error in errors:
        info(f"FAILED: {error}")
    print(json.dumps(summary))
    return 1 if errors else 0


def read_outcome(page, browser, shown, args, summary):
    """What the page shows at the end, uncaught exceptions in it (failures too), a screenshot."""
    try:
        if shown is None:
            shown = page.evaluate(READ_PAGE)
    except Failure:
        pass
    while True:
        try:
            event = browser.events.get_nowait()
        except queue.Empty:
            break
        if event.get("method") == "Runtime.exceptionThrown":
            details = event["params"]["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            summary["errors"].append(f"uncaught exception in the page: {text}")
    if args.screenshot:
        try:
            data = page.send("Page.captureScreenshot", {"format": "png"})["data"]
            with open(args.screenshot, "wb") as file:
                file.write(base64.b64decode(data))
        except (Failure, OSError) as error:
            info(f"no screenshot: {error}")
    return shown


if __name__ == "__main__":
    sys.exit(main())
