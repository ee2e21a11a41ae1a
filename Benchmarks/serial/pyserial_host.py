"""The named peer of the serial benchmark: what a QA engineer's script would do with pyserial.

Opens the port with pyserial (8N1, no flow control), decodes with the Python reference decoder
(firmware-protocol/vectors/reference.py, incremental `Decoder.feed`), does the host's half of the
handshake of PROTOCOL.md section 4 (0x00 + CONNECT until a HELLO with our sessionId answers, 5
TIME_SYNC_REQUESTs 100 ms apart then one every 10 s, a HEARTBEAT every second) and counts the
readings and the gaps in their indexes, for --seconds. Prints one JSON summary line, with the
same key names as `stedi capture --json` where they mean the same thing.

It does less than `stedi capture`: no wall-clock mapping of readings, no landing files, no
reconnects. Reads the usual way, `ser.read(ser.in_waiting or 1)` with a short timeout.
"""

import argparse
import json
import os
import random
import sys
import time

import serial  # pyserial

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "firmware-protocol", "vectors"))
import reference as ref  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", required=True)
    p.add_argument("--baud", type=int, default=921_600)
    p.add_argument("--seconds", type=float, required=True)
    args = p.parse_args()

    started = time.monotonic()
    ser = serial.Serial(args.port, args.baud, bytesize=8, parity="N", stopbits=1, timeout=0.05,
                        exclusive=True)
    decoder = ref.Decoder()
    sequence = 0
    session = random.randint(1, 2**32 - 1)

    def send(json_type, **fields):
        nonlocal sequence
        ser.write(ref.encode(ref.msg(json_type, sequence, **fields)))
        sequence = (sequence + 1) & 0xFFFF

    def epoch_ms():
        return int(time.time() * 1000)

    ser.write(b"\x00")
    send("connect", protocolVersion=1, sessionId=session)
    connect_attempts, last_connect = 1, time.monotonic()
    connected = False
    syncs_sent, next_sync, next_heartbeat = 0, None, None
    readings = lost = duplicates = 0
    last_index = None
    serial_number = None
    time_syncs = 0

    end = started + args.seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        data = ser.read(ser.in_waiting or 1)
        for event in decoder.feed(data) if data else ():
            m = event.get("message")
            if m is None:
                continue
            kind = m["type"]
            if kind == "hello":
                if not connected and m["sessionId"] == session:
                    connected = True
                    serial_number = m["serialNumber"]
                    next_sync = next_heartbeat = time.monotonic()
            elif not connected:
                continue
            elif kind == "reading":
                indexes = [m["index"]]
            elif kind == "readingBatch":
                indexes = [m["firstIndex"] + i for i in range(len(m["readings"]))]
            elif kind == "timeSyncResponse":
                time_syncs += 1
                continue
            else:
                continue
            if kind in ("reading", "readingBatch"):
                for index in indexes:
                    if last_index is not None:
                        if index <= last_index:
                            duplicates += 1
                            continue
                        lost += index - last_index - 1
                    last_index = index
                    readings += 1
        now = time.monotonic()
        if not connected:
            if now - last_connect >= 0.5:
                if connect_attempts > 5:
                    print(json.dumps({"error": "no device answered"}), flush=True)
                    return 2
                send("connect", protocolVersion=1, sessionId=session)
                connect_attempts, last_connect = connect_attempts + 1, now
            continue
        if now >= next_heartbeat:
            send("heartbeat", timeMs=epoch_ms(), state="connected", buffered=0, dropped=0)
            next_heartbeat += 1.0
        if now >= next_sync:
            send("timeSyncRequest", t1=epoch_ms())
            syncs_sent += 1
            next_sync += 0.1 if syncs_sent < 5 else 10.0

    ser.close()
    print(json.dumps({
        "port": args.port, "serialNumber": serial_number, "readings": readings, "lost": lost,
        "duplicates": duplicates, "timeSyncResponses": time_syncs,
        "frames": {"decoded": decoder.messages, "rejected": dict(decoder.rejections),
                   "bytesDiscarded": decoder.bytes_discarded},
        "seconds": round(time.monotonic() - started, 3),
    }, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
