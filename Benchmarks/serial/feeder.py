"""The device side of the serial benchmark: an unrealistically fast Step Trainer on a pty.

Opens a pseudo-terminal (raw mode), prints its slave path, waits for a host to open it, answers
the handshake of PROTOCOL.md section 4 (CONNECT -> HELLO echoing the sessionId, every
TIME_SYNC_REQUEST -> TIME_SYNC_RESPONSE at once, a HEARTBEAT every second), then streams READING
frames (one sample each, consecutive indexes) at the line rate of 921,600 baud 8N1 (92,160
bytes/s) for --seconds. A pty does not enforce a baud rate, so the feeder paces itself: every
--tick-ms it puts on the line what the line could have carried since streaming began (replies and
heartbeats included), whole frames only.

Like firmware, it has a transmit buffer (--tx-buffer bytes): when the host does not drain the pty
fast enough and the buffer is full, a new sample is dropped (its index is skipped), exactly what a
UART without flow control would lose. So every reading the host does not deliver is countable.

After streaming it keeps the link alive (heartbeats, replies) until the host closes the port or
--linger seconds pass. Standard output, one JSON object per line: {"event": "path"}, then
{"event": "start"} and {"event": "end"} at the streaming window's edges (the driver samples the
host's CPU time there), and {"event": "summary"} last.

Standard library only, plus firmware-protocol/vectors/reference.py (the Python reference codec).
"""

import argparse
import json
import os
import select
import struct
import sys
import termios
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "firmware-protocol", "vectors"))
import reference as ref  # noqa: E402

SERIAL = "5e0b1d7a-4c2f-4e91-9a3b-7d6e8f0a1b2c"
BOOT_ID = 0x5EB1_A7C0
#: The device clock reads this many ms when the host connects (it "booted" 10 s earlier).
CONNECT_AT_DEVICE_MS = 10_000
READING_SPEC = ref.BY_NAME["READING"]


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def reading_wire(index, device_ms, sequence):
    """COBS(READING frame) 0x00, built without reference.encode's validation round trip (same bytes)."""
    payload = struct.pack(READING_SPEC.fixed_format, index, device_ms, 200 + index % 3000, 0)
    return ref.cobs_encode(ref.build_frame(READING_SPEC.type, sequence, payload)) + b"\x00"


def frames_blob(count, frame_ms, cache):
    """All `count` reading frames, back to back (each is the same size); cached in `cache`."""
    if cache and os.path.exists(cache):
        with open(cache, "rb") as f:
            blob = f.read()
        first = reading_wire(0, CONNECT_AT_DEVICE_MS, 1)
        if len(blob) == count * len(first) and blob.startswith(first):
            return blob
    parts = [reading_wire(i, CONNECT_AT_DEVICE_MS + int(i * frame_ms), (i + 1) & 0xFFFF)
             for i in range(count)]
    assert len({len(p) for p in parts}) == 1
    blob = b"".join(parts)
    if cache:
        with open(cache + ".tmp", "wb") as f:
            f.write(blob)
        os.replace(cache + ".tmp", cache)
    return blob


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20.0, help="streaming time")
    p.add_argument("--baud", type=int, default=921_600, help="line rate to pace at (8N1: baud/10 bytes/s)")
    p.add_argument("--tick-ms", type=float, default=2.0, help="pacing interval")
    p.add_argument("--tx-buffer", type=int, default=4096, help="device transmit buffer, bytes")
    p.add_argument("--wait-host", type=float, default=60.0, help="give up if no host opens the port by then")
    p.add_argument("--linger", type=float, default=30.0, help="after streaming, wait this long for the host to leave")
    p.add_argument("--cache", help="file to keep the pre-encoded reading frames in")
    args = p.parse_args()

    bytes_per_second = args.baud / 10.0
    frame_size = len(reading_wire(0, 0, 0))
    frame_ms = frame_size / bytes_per_second * 1000.0
    count = int(args.seconds * bytes_per_second / frame_size)
    # Pre-encoded, so the feeder spends almost no CPU while the host is measured.
    blob = frames_blob(count, frame_ms, args.cache)

    master, slave = os.openpty()
    tty.setraw(slave, termios.TCSANOW)
    path = os.ttyname(slave)
    # Closing our slave fd makes the master report POLLHUP until a host opens the path.
    os.close(slave)
    os.set_blocking(master, False)
    emit("path", path=path, frameBytes=frame_size, frames=count)

    poller = select.poll()
    poller.register(master, select.POLLIN)
    deadline = time.monotonic() + args.wait_host
    while True:
        revents = dict(poller.poll(0)).get(master, 0)
        if not revents & select.POLLHUP:
            break
        if time.monotonic() > deadline:
            emit("summary", error="no host opened the port")
            return 1
        time.sleep(0.005)

    decoder = ref.Decoder()
    control_sequence = 0
    anchor = None  # monotonic time of the CONNECT (device clock = CONNECT_AT_DEVICE_MS there)
    boot = time.monotonic()
    tx = bytearray()
    line_bytes = 0  # everything put on the line since streaming began
    next_frame = 0
    dropped = 0
    written = 0
    control_frames = 0
    stream_start = stream_end = None
    next_heartbeat = 0.0
    host_gone = False
    sessions = 0
    stats = {"connects": 0, "timeSyncs": 0, "hostHeartbeats": 0, "other": 0, "rejected": 0}

    def device_ms(now):
        base = anchor if anchor is not None else boot
        return CONNECT_AT_DEVICE_MS + int((now - base) * 1000)

    def control(message):
        nonlocal control_sequence, control_frames, line_bytes
        message["sequence"] = control_sequence
        control_sequence = (control_sequence + 1) & 0xFFFF
        wire = ref.encode(message)
        tx.extend(wire)  # replies are never dropped (they are rare and tiny)
        control_frames += 1
        if stream_start is not None:
            line_bytes += len(wire)

    tick = args.tick_ms / 1000.0
    linger_until = None
    while True:
        now = time.monotonic()
        # 1. What the host sent.
        try:
            data = os.read(master, 4096)
        except BlockingIOError:
            data = b""
        except OSError:  # EIO: no host has the slave open any more
            data = b""
            host_gone = anchor is not None
        for event in decoder.feed(data):
            m = event.get("message")
            if m is None:
                stats["rejected"] += 1
                continue
            kind = m["type"]
            if kind == "connect":
                stats["connects"] += 1
                sessions += 1
                if anchor is None:
                    anchor = now
                hello = ref.hello(0, serialNumber=SERIAL, deviceTimeMs=device_ms(now),
                                  sessionId=m["sessionId"], bootId=BOOT_ID, bufferCapacity=args.tx_buffer // frame_size)
                control(hello)
                if stream_start is None:
                    stream_start = time.monotonic()
                    next_heartbeat = stream_start + 1.0
                    emit("start", at=stream_start)
            elif kind == "timeSyncRequest":
                stats["timeSyncs"] += 1
                t2 = device_ms(now)
                control(ref.msg("timeSyncResponse", 0, t1=m["t1"], t2=t2, t3=max(t2, device_ms(time.monotonic()))))
            elif kind == "heartbeat":
                stats["hostHeartbeats"] += 1
            else:
                stats["other"] += 1
        # 2. Heartbeats while connected.
        if stream_start is not None and now >= next_heartbeat and not host_gone:
            control(ref.heartbeat(0, device_ms(now), "connected"))
            next_heartbeat += 1.0
        # 3. Samples the line has room for since streaming began.
        if stream_start is not None and stream_end is None:
            budget = int((now - stream_start) * bytes_per_second)
            while next_frame < count and line_bytes + frame_size <= budget:
                if len(tx) + frame_size <= args.tx_buffer:
                    tx.extend(blob[next_frame * frame_size:(next_frame + 1) * frame_size])
                else:
                    dropped += 1
                line_bytes += frame_size
                next_frame += 1
            if next_frame >= count:
                stream_end = time.monotonic()
                emit("end", at=stream_end)
                linger_until = stream_end + args.linger
        # 4. Onto the wire, as much as the pty takes.
        if tx and not host_gone:
            try:
                n = os.write(master, tx)
                written += n
                del tx[:n]
            except BlockingIOError:
                pass
            except OSError:
                host_gone = anchor is not None
        if host_gone and stream_end is None:
            break  # the host left mid-stream
        if linger_until is not None and (host_gone or now > linger_until):
            break
        if anchor is None and now > deadline + args.wait_host:
            break
        time.sleep(tick)

    elapsed = (stream_end or time.monotonic()) - (stream_start or time.monotonic())
    emit("summary", readingsGenerated=next_frame, readingsDroppedAtDevice=dropped,
         readingsSent=next_frame - dropped, frameBytes=frame_size, streamSeconds=round(elapsed, 3),
         lineBytesPerSecond=round(line_bytes / elapsed, 1) if elapsed > 0 else None,
         bytesWritten=written, bytesUnsent=len(tx), controlFrames=control_frames,
         hostLeft=host_gone, sessions=sessions, fromHost=stats)
    os.close(master)
    return 0


if __name__ == "__main__":
    sys.exit(main())
