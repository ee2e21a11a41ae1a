#!/usr/bin/env python3
"""Independent reference implementation of the Step Trainer serial protocol, version 1.

Written from ../PROTOCOL.md alone (standard library only, Python 3.11). It provides:

- CRC-32C and COBS (sections 3.2, 3.3),
- message layouts and seeds derived from the signature strings of section 5,
- encoding and decoding of the 11 message types to/from the JSON form of section 6,
- an incremental decoder implementing section 3.5 (events, per-outcome rejection counts,
  bytesDiscarded, pendingBytes), independent of how the input is sliced.

Command line (paths are relative to this file, not to the working directory):

    python3 reference.py --write   # regenerate frames.json, seeds.json, device.json
    python3 reference.py --check   # decode and re-encode every case of frames.json; device.json

device.json (revision 1.1) holds the device's behaviour of sections 4.2 to 4.9 as exchanges a
harness replays against a device; its cases are defined in `build_device_cases`, from the spec.
"""

from __future__ import annotations

import argparse
import json
import random
import struct
import sys
import uuid
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
FRAMES_PATH = HERE / "frames.json"
SEEDS_PATH = HERE / "seeds.json"
DEVICE_PATH = HERE / "device.json"

PROTOCOL_VERSION = 1
HEADER_SIZE = 5  # version, type, sequence (u16), length
CRC_SIZE = 4
MIN_FRAME = HEADER_SIZE + CRC_SIZE  # 9
MAX_PAYLOAD = 240
MAX_ENCODED = 250  # COBS(frame) of a 249-byte frame, delimiter excluded
MAX_BATCH = 45

# --------------------------------------------------------------------------- CRC-32C (3.2)


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli): reflected, init 0xFFFFFFFF, final XOR 0xFFFFFFFF."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283, "CRC-32C check value"

# --------------------------------------------------------------------------- COBS (3.3)


class CobsError(ValueError):
    pass


def cobs_encode(data: bytes) -> bytes:
    """Split at each 0x00; each part becomes (len+1, bytes); runs of 254 use code 0xFF."""
    out = bytearray()
    block = bytearray()
    for byte in data:
        if byte == 0:
            out += bytes([len(block) + 1]) + block
            block.clear()
        else:
            block.append(byte)
            if len(block) == 254:  # a 0xFF block carries no implied zero
                out += b"\xff" + block
                block.clear()
    out += bytes([len(block) + 1]) + block
    return bytes(out)


def cobs_decode(encoded: bytes) -> bytes:
    """Inverse of cobs_encode; `encoded` holds no 0x00 (the delimiter is not included)."""
    out = bytearray()
    i = 0
    while i < len(encoded):
        code = encoded[i]
        if code == 0:
            raise CobsError("0x00 inside a candidate")
        if i + code > len(encoded):  # the block announces more bytes than remain
            raise CobsError(f"code 0x{code:02x} at {i} runs past the delimiter")
        out += encoded[i + 1 : i + code]
        i += code
        if code != 0xFF and i < len(encoded):
            out.append(0)  # the implied zero, except after the last block
    return bytes(out)


assert cobs_encode(b"") == b"\x01"
assert cobs_encode(b"\x00") == b"\x01\x01"
assert cobs_encode(b"\x11\x22\x00\x33") == b"\x03\x11\x22\x02\x33"
assert cobs_encode(b"\x11\x00\x00\x00") == b"\x02\x11\x01\x01\x01"
assert cobs_decode(cobs_encode(bytes(range(256)) * 2)) == bytes(range(256)) * 2

# --------------------------------------------------------------------------- messages (5)

# Section 5's table: (type, name, table seed, signature). The payload layout is parsed from the
# signature itself, so layout and seed cannot drift apart.
MESSAGE_TABLE = [
    (0x01, "CONNECT", 0x86, "CONNECT u8 protocolVersion u32 sessionId"),
    (0x02, "HELLO", 0x86, "HELLO u8 protocolVersion uuid serialNumber u8 firmwareMajor "
     "u8 firmwareMinor u8 firmwarePatch u8 sensorKind u16 sampleRateCentihertz "
     "u16 minDistanceMm u16 maxDistanceMm u64 deviceTimeMs u32 sessionId u32 bootId "
     "u16 bufferCapacity"),
    (0x03, "HEARTBEAT", 0x34, "HEARTBEAT u64 timeMs u8 state u16 buffered u32 dropped"),
    (0x10, "READING", 0x80, "READING u32 index u64 deviceTimeMs u16 distanceMm u8 status"),
    (0x11, "READING_BATCH", 0xB1, "READING_BATCH u32 firstIndex u64 firstTimeMs u8 count "
     "[u16 offsetMs u16 distanceMm u8 status]"),
    (0x20, "TIME_SYNC_REQUEST", 0x3D, "TIME_SYNC_REQUEST u64 t1"),
    (0x21, "TIME_SYNC_RESPONSE", 0x5B, "TIME_SYNC_RESPONSE u64 t1 u64 t2 u64 t3"),
    (0x30, "CONFIGURE", 0xF7, "CONFIGURE u16 sampleRateCentihertz u8 batchSize"),
    (0x40, "ACK", 0xF7, "ACK u8 answeredType u16 answeredSequence"),
    (0x41, "NACK", 0x11, "NACK u8 answeredType u16 answeredSequence u8 reason"),
    (0x50, "FAULT", 0x17, "FAULT u16 code u8 severity u32 detail u64 deviceTimeMs"),
]
TABLE_SIZES = {"CONNECT": 5, "HELLO": 45, "HEARTBEAT": 15, "READING": 15, "READING_BATCH": None,
               "TIME_SYNC_REQUEST": 8, "TIME_SYNC_RESPONSE": 24, "CONFIGURE": 3, "ACK": 3,
               "NACK": 4, "FAULT": 15}

KINDS = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q", "uuid": "16s"}

# Fields whose JSON form is a name (section 6); any other value is rejected (`payload`).
ENUMS = {
    "status": {0: "ok", 1: "outOfRange", 2: "noEcho", 3: "sensorFault"},
    "state": {0: "waiting", 1: "connected"},
    "reason": {1: "unknownType", 2: "unsupportedVersion", 3: "badPayload", 4: "outOfRange",
               5: "notConnected", 6: "busy"},
    "severity": {0: "info", 1: "warning", 2: "error"},
}


def _parse_fields(text: str) -> list[tuple[str, str]]:
    tokens = text.split()
    assert len(tokens) % 2 == 0 and all(k in KINDS for k in tokens[0::2]), text
    return list(zip(tokens[1::2], tokens[0::2]))  # (field name, kind)


class MessageSpec:
    def __init__(self, type_: int, name: str, table_seed: int, signature: str):
        head, _, group = signature.partition("[")
        sig_name, _, fields = head.partition(" ")
        assert sig_name == name, signature
        self.type, self.name, self.signature = type_, name, signature
        self.seed = crc32c(signature.encode("ascii")) & 0xFF
        assert self.seed == table_seed, f"{name}: computed seed 0x{self.seed:02x} != table"
        self.fields = _parse_fields(fields)  # fixed part
        self.group = _parse_fields(group.rstrip("]")) if group else None  # repeated part
        self.fixed_format = "<" + "".join(KINDS[k] for _, k in self.fields)
        self.group_format = "<" + "".join(KINDS[k] for _, k in self.group or [])
        self.fixed_size = struct.calcsize(self.fixed_format)
        self.group_size = struct.calcsize(self.group_format) if self.group else 0
        self.payload_size = None if self.group else self.fixed_size
        assert self.payload_size == TABLE_SIZES[name], f"{name}: size differs from the table"
        parts = name.lower().split("_")
        self.json_type = parts[0] + "".join(p.capitalize() for p in parts[1:])


SPECS = [MessageSpec(*row) for row in MESSAGE_TABLE]
BY_TYPE = {s.type: s for s in SPECS}
BY_NAME = {s.name: s for s in SPECS}
BY_JSON_TYPE = {s.json_type: s for s in SPECS}
BATCH = BY_NAME["READING_BATCH"]
assert (BATCH.fixed_size, BATCH.group_size) == (13, 5) and BATCH.fields[-1][0] == "count"
assert BATCH.fixed_size + MAX_BATCH * BATCH.group_size <= MAX_PAYLOAD


class PayloadError(ValueError):
    pass


def _to_json(name: str, kind: str, value):
    if kind == "uuid":
        return str(uuid.UUID(bytes=value))
    if name in ENUMS:
        if value not in ENUMS[name]:
            raise PayloadError(f"{name} {value} does not exist")
        return ENUMS[name][value]
    return value


def _check_rules(spec: MessageSpec, m: dict) -> None:
    """Field rules of section 5 that make a frame invalid (`payload`), beyond enums and sizes.

    Not rejected here, on purpose: HELLO sensorKind (reserved values are shown as unknown),
    CONFIGURE values (answered by NACK outOfRange, 5.6), FAULT codes, HELLO protocolVersion,
    sampleRateCentihertz and bootId (see README.md: the spec does not say they are rejected)."""
    if spec.name == "CONNECT" and m["sessionId"] == 0:
        raise PayloadError("CONNECT sessionId 0")
    if spec.name == "HELLO" and not m["minDistanceMm"] < m["maxDistanceMm"]:
        raise PayloadError("HELLO minDistanceMm >= maxDistanceMm")
    if spec.name == "TIME_SYNC_RESPONSE" and m["t2"] > m["t3"]:
        raise PayloadError("TIME_SYNC_RESPONSE t2 > t3")
    if spec.name == "READING_BATCH":
        offsets = [r["offsetMs"] for r in m["readings"]]
        if not 1 <= len(offsets) <= MAX_BATCH:
            raise PayloadError(f"batch count {len(offsets)} not in 1..{MAX_BATCH}")
        if offsets[0] != 0:
            raise PayloadError("batch offsetMs[0] != 0")
        if any(b < a for a, b in zip(offsets, offsets[1:])):
            raise PayloadError("batch offsets decrease")


def decode_payload(spec: MessageSpec, sequence: int, payload: bytes) -> dict:
    """Payload bytes -> JSON message (section 6); raises PayloadError (`payload`)."""
    m = {"type": spec.json_type, "sequence": sequence}
    if spec.group is None:
        if len(payload) != spec.payload_size:
            raise PayloadError(f"{spec.name} payload {len(payload)} bytes, not {spec.payload_size}")
    elif len(payload) < spec.fixed_size or len(payload) != (
            spec.fixed_size + payload[spec.fixed_size - 1] * spec.group_size):
        raise PayloadError(f"{spec.name} payload size {len(payload)} does not match its count")
    values = struct.unpack_from(spec.fixed_format, payload)
    for (name, kind), value in zip(spec.fields, values):
        if name != "count":  # a batch's count is the length of `readings`
            m[name] = _to_json(name, kind, value)
    if spec.group is not None:
        m["readings"] = []
        for offset in range(spec.fixed_size, len(payload), spec.group_size):
            row = struct.unpack_from(spec.group_format, payload, offset)
            m["readings"].append({n: _to_json(n, k, v) for (n, k), v in zip(spec.group, row)})
    _check_rules(spec, m)
    return m


def _from_json(name: str, kind: str, value):
    if kind == "uuid":
        u = uuid.UUID(value)
        if str(u) != value:
            raise ValueError(f"serialNumber must be lowercase 8-4-4-4-12 text: {value!r}")
        return u.bytes
    if name in ENUMS:
        return {v: k for k, v in ENUMS[name].items()}[value]
    return value


def pack_payload(spec: MessageSpec, values: dict, rows: list[dict] | None = None) -> bytes:
    """Raw integer values -> payload bytes, without any validation (also builds bad frames)."""
    out = struct.pack(spec.fixed_format, *(values[n] for n, _ in spec.fields))
    for row in rows or []:
        out += struct.pack(spec.group_format, *(row[n] for n, _ in spec.group))
    return out


def build_frame(type_: int, sequence: int, payload: bytes, *, version: int = PROTOCOL_VERSION,
                length: int | None = None, seed: int | None = None) -> bytes:
    """Unencoded frame: header, payload, CRC-32C over both and the seed. The keyword
    arguments override what a correct sender would use (to build rejected frames)."""
    if seed is None:
        seed = BY_TYPE[type_].seed
    header = struct.pack("<BBHB", version, type_, sequence,
                         len(payload) if length is None else length)
    body = header + payload
    return body + struct.pack("<I", crc32c(body + bytes([seed])))


def encode_frame(message: dict) -> bytes:
    """JSON message -> unencoded frame. Refuses messages that a decoder would reject."""
    spec = BY_JSON_TYPE[message["type"]]
    expected = {"type", "sequence", *(n for n, _ in spec.fields if n != "count")}
    if spec.group is not None:
        expected.add("readings")
    if set(message) != expected:
        raise ValueError(f"{spec.json_type}: fields {sorted(message)} != {sorted(expected)}")
    values = {n: _from_json(n, k, message.get(n)) for n, k in spec.fields if n != "count"}
    rows = None
    if spec.group is not None:
        rows = [{n: _from_json(n, k, r[n]) for n, k in spec.group} for r in message["readings"]]
        values["count"] = len(rows)
    payload = pack_payload(spec, values, rows)
    if decode_payload(spec, message["sequence"], payload) != message:
        raise ValueError(f"{spec.json_type}: not a valid message: {message}")
    return build_frame(spec.type, message["sequence"], payload)


def encode(message: dict) -> bytes:
    """JSON message -> wire bytes: COBS(frame) 0x00."""
    return cobs_encode(encode_frame(message)) + b"\x00"


# --------------------------------------------------------------------------- decoder (3.5)


def judge(candidate: bytes) -> tuple[str, dict | None]:
    """Outcome of a non-empty candidate of at most MAX_ENCODED bytes, in section 3.5's order."""
    try:
        frame = cobs_decode(candidate)
    except CobsError:
        return "cobs", None
    if len(frame) < MIN_FRAME:
        return "tooShort", None
    if frame[0] != PROTOCOL_VERSION:
        return "version", None
    if frame[4] != len(frame) - MIN_FRAME:
        return "length", None
    spec = BY_TYPE.get(frame[1])
    if spec is None:
        return "unknownType", None
    body, (crc,) = frame[:-CRC_SIZE], struct.unpack("<I", frame[-CRC_SIZE:])
    if crc32c(body + bytes([spec.seed])) != crc:
        return "crc", None
    sequence = struct.unpack_from("<H", frame, 2)[0]
    try:
        return "message", decode_payload(spec, sequence, frame[HEADER_SIZE:-CRC_SIZE])
    except PayloadError:
        return "payload", None


class Decoder:
    """Incremental receiver. feed() returns events: {"message": M} or {"rejected": outcome}.

    Reading taken for oversize candidates: the 251st byte triggers the `oversize` event; from
    then on every byte up to the next 0x00 counts as discarded as soon as it arrives, so such
    bytes are never `pendingBytes` (they were already judged)."""

    def __init__(self) -> None:
        self.candidate = bytearray()
        self.discarding = False  # after `oversize`, until the next 0x00
        self.rejections: Counter[str] = Counter()
        self.messages = 0
        self.bytes_discarded = 0

    @property
    def pending_bytes(self) -> int:
        return len(self.candidate)

    def _reject(self, outcome: str, size: int, events: list) -> None:
        self.rejections[outcome] += 1
        self.bytes_discarded += size
        events.append({"rejected": outcome})

    def feed(self, data: bytes) -> list[dict]:
        events: list[dict] = []
        for byte in data:
            if self.discarding:
                if byte == 0:
                    self.discarding = False
                else:
                    self.bytes_discarded += 1
            elif byte != 0:
                self.candidate.append(byte)
                if len(self.candidate) > MAX_ENCODED:
                    self._reject("oversize", len(self.candidate), events)
                    self.candidate.clear()
                    self.discarding = True
            elif self.candidate:  # an empty candidate (0x00 0x00) is ignored
                outcome, message = judge(bytes(self.candidate))
                if message is not None:
                    self.messages += 1
                    events.append({"message": message})
                else:
                    self._reject(outcome, len(self.candidate), events)
                self.candidate.clear()
        return events


def decode_stream(data: bytes, cuts: list[int] | None = None) -> tuple[list, int, int, Decoder]:
    """Feed `data` cut at the given offsets; return events, bytesDiscarded, pendingBytes and
    the decoder (for its per-outcome counters)."""
    decoder, events, start = Decoder(), [], 0
    for cut in (cuts or []) + [len(data)]:
        events += decoder.feed(data[start:cut])
        start = cut
    return events, decoder.bytes_discarded, decoder.pending_bytes, decoder


# --------------------------------------------------------------------------- seeds.json and cases


def seeds_document() -> dict:
    return {s.name: {"type": s.type, "signature": s.signature, "seed": s.seed,
                     "payloadSize": s.payload_size} for s in SPECS}


SERIAL = "7c1e5a2b-93d4-4f6e-8a0b-2d5c9e1f3a47"
SESSION = 0x3B9F42D1  # the host's random non-zero sessionId
BOOT = 0xA1B2C3D4  # the device's random bootId
EPOCH = 1_732_852_805_000  # host wall clock, Unix epoch ms (late 2024)
U32_MAX, U16_MAX, JSON_U64_MAX = 2**32 - 1, 2**16 - 1, 2**53 - 1


def msg(json_type: str, sequence: int, **fields) -> dict:
    """A JSON message with its keys in signature order (so frames.json is stable)."""
    spec = BY_JSON_TYPE[json_type]
    names = [n for n, _ in spec.fields if n != "count"] + (["readings"] if spec.group else [])
    assert set(fields) == set(names), (json_type, sorted(fields))
    return {"type": json_type, "sequence": sequence, **{n: fields[n] for n in names}}


def hello(sequence: int, **changes) -> dict:
    fields = dict(protocolVersion=1, serialNumber=SERIAL, firmwareMajor=1, firmwareMinor=2,
                  firmwarePatch=3, sensorKind=1, sampleRateCentihertz=1000, minDistanceMm=20,
                  maxDistanceMm=4000, deviceTimeMs=73_512, sessionId=SESSION, bootId=BOOT,
                  bufferCapacity=600)
    return msg("hello", sequence, **{**fields, **changes})


def reading(sequence, index, time, distance, status="ok") -> dict:
    return msg("reading", sequence, index=index, deviceTimeMs=time, distanceMm=distance,
               status=status)


def row(offset, distance, status="ok") -> dict:
    return {"offsetMs": offset, "distanceMm": distance, "status": status}


def batch(sequence, first_index, first_time, rows) -> dict:
    return msg("readingBatch", sequence, firstIndex=first_index, firstTimeMs=first_time,
               readings=rows)


def heartbeat(sequence, time, state, buffered=0, dropped=0) -> dict:
    return msg("heartbeat", sequence, timeMs=time, state=state, buffered=buffered,
               dropped=dropped)


def nack(sequence, answered_type, answered_sequence, reason) -> dict:
    return msg("nack", sequence, answeredType=answered_type,
               answeredSequence=answered_sequence, reason=reason)


def raw_payload(message: dict, rows: list[dict] | None = None, **overrides) -> bytes:
    """Payload of `message` with raw integer overrides, not validated (for rejected frames).
    `rows` replaces a batch's readings (raw integers); count follows it unless overridden."""
    spec = BY_JSON_TYPE[message["type"]]
    values = {n: _from_json(n, k, message[n]) for n, k in spec.fields if n != "count"}
    if spec.group is not None:
        if rows is None:
            rows = [{n: _from_json(n, k, r[n]) for n, k in spec.group}
                    for r in message["readings"]]
        values["count"] = len(rows)
    values.update(overrides)
    return pack_payload(spec, values, rows)


def raw_frame(message: dict, payload: bytes | None = None, **frame_overrides) -> bytes:
    spec = BY_JSON_TYPE[message["type"]]
    if payload is None:
        payload = raw_payload(message)
    return build_frame(spec.type, message["sequence"], payload, **frame_overrides)


def wire(frame: bytes) -> bytes:
    return cobs_encode(frame) + b"\x00"


def flip_bit(data: bytes, index: int, bit: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ (1 << bit)]) + data[index + 1:]


def ok(message: dict) -> dict:
    return {"message": message}


def rejected(outcome: str) -> dict:
    return {"rejected": outcome}


def discarded(*wires: bytes) -> int:
    """Bytes a rejected candidate counts: its wire bytes without the delimiter."""
    return sum(len(w) - 1 for w in wires)


def build_cases() -> list[dict]:
    cases: list[dict] = []

    def add(name, description, data, events, bytes_discarded=0, pending=0, encodes=False):
        cases.append({"name": name, "description": description, "hex": data.hex(),
                      "events": events, "bytesDiscarded": bytes_discarded,
                      "pendingBytes": pending, "encodes": encodes})

    def valid(name, description, message):
        add(name, description, encode(message), [ok(message)], encodes=True)

    def reject(name, description, frame_or_wire, outcome, *, after=None, encoded=False):
        """One rejected candidate, optionally followed by a good message that decodes."""
        w = frame_or_wire if encoded else wire(frame_or_wire)
        data, events = w, [rejected(outcome)]
        if after is not None:
            data, events = data + encode(after), events + [ok(after)]
        add(name, description, data, events, discarded(w))

    # ---- one valid frame of every type, realistic values -------------------------------
    connect = msg("connect", 0, protocolVersion=1, sessionId=SESSION)
    valid("connect", "The host's first frame after opening the port: CONNECT, sequence 0, "
          "a random non-zero sessionId.", connect)
    hello_answer = hello(17)
    valid("hello_answering_connect", "HELLO answering the CONNECT: ultrasonic sensor, firmware "
          "1.2.3, 10 Hz (1000 cHz), 20..4000 mm, the same sessionId.", hello_answer)
    valid("hello_unsolicited", "Unsolicited HELLO a waiting device sends once per second: "
          "sessionId 0.", hello(3, deviceTimeMs=3_012, sessionId=0))
    valid("hello_infrared_tof", "HELLO of an infrared time-of-flight device (sensorKind 2) at "
          "16 Hz with a 40..1300 mm range.",
          hello(1, sensorKind=2, sampleRateCentihertz=1600, minDistanceMm=40,
                maxDistanceMm=1300, serialNumber="e4b0c1d2-5f6a-4b7c-9d8e-0f1a2b3c4d5e",
                firmwareMajor=2, firmwareMinor=0, firmwarePatch=11, bufferCapacity=2048))
    valid("hello_reserved_sensor_kind", "HELLO with a reserved sensorKind (9): a valid frame, "
          "the host shows the kind as unknown but does not reject it.", hello(4, sensorKind=9))
    valid("heartbeat_device_waiting", "Device HEARTBEAT while waiting, 48 readings buffered.",
          heartbeat(6, 6_004, "waiting", buffered=48))
    valid("heartbeat_device_connected", "Device HEARTBEAT while connected, buffer drained, "
          "312 readings dropped since boot.", heartbeat(245, 95_004, "connected", 0, 312))
    valid("heartbeat_host", "Host HEARTBEAT: epoch-ms clock, connected, buffered and dropped 0.",
          heartbeat(9, EPOCH + 4_000, "connected"))
    valid("reading_ok", "READING with status ok, 612 mm.", reading(301, 731, 80_412, 612))
    valid("reading_out_of_range", "READING with status outOfRange; the raw 4527 mm is for "
          "diagnosis only.", reading(302, 732, 80_512, 4_527, "outOfRange"))
    valid("reading_no_echo", "READING with status noEcho and distance 4000 (the sensor's "
          "maximum, meaningless).", reading(303, 733, 80_612, 4_000, "noEcho"))
    valid("reading_sensor_fault", "READING with status sensorFault and distance 0.",
          reading(304, 734, 80_712, 0, "sensorFault"))
    valid("reading_extreme_values", "READING with sequence 65535, index u32 max, deviceTimeMs "
          "2^53-1 and distance 65535 (outOfRange).",
          reading(U16_MAX, U32_MAX, JSON_U64_MAX, U16_MAX, "outOfRange"))
    valid("reading_mostly_zero_bytes", "READING at boot: sequence 0, index 0, time 0, distance "
          "0 (noEcho); many 0x00 bytes for COBS.", reading(0, 0, 0, 0, "noEcho"))
    valid("reading_batch_single", "READING_BATCH of 1 reading (offsetMs 0).",
          batch(402, 800, 80_000, [row(0, 598)]))
    several = batch(403, 801, 80_100, [row(0, 601), row(100, 604), row(200, 0, "noEcho"),
                                       row(300, 610), row(400, 4_210, "outOfRange"),
                                       row(500, 0, "sensorFault"), row(600, 615)])
    valid("reading_batch_several", "READING_BATCH of 7 readings at 10 Hz with every status.",
          several)
    valid("reading_batch_equal_offsets", "READING_BATCH whose offsets repeat (0, 0, 40, 40): "
          "offsets must not decrease, equal is allowed.",
          batch(404, 808, 80_800, [row(0, 620), row(0, 621), row(40, 622), row(40, 623)]))
    statuses = {17: ("noEcho", 0), 31: ("outOfRange", 4_480)}
    max_rows = [row(100 * i, statuses.get(i, ("ok", 0))[1] or 640 - 4 * i + 7 * (i % 3),
                    statuses.get(i, ("ok", 0))[0]) for i in range(MAX_BATCH)]
    max_batch = batch(405, 12_000, 1_200_123, max_rows)
    assert len(encode(max_batch)) == 5 + 13 + 5 * MAX_BATCH + 4 + 2  # 249 on the wire
    valid("reading_batch_max_45", "READING_BATCH of the maximum 45 readings: payload 238, "
          "frame 247, encoded 248, 249 bytes on the wire (the largest valid message).", max_batch)
    tsreq = msg("timeSyncRequest", 2, t1=EPOCH)
    valid("time_sync_request", "TIME_SYNC_REQUEST with the host's epoch-ms t1.", tsreq)
    valid("time_sync_response", "TIME_SYNC_RESPONSE echoing t1, with device times t2 < t3.",
          msg("timeSyncResponse", 18, t1=EPOCH, t2=73_611, t3=73_612))
    valid("time_sync_response_t2_equals_t3", "TIME_SYNC_RESPONSE with t2 == t3 (allowed), "
          "large t1.", msg("timeSyncResponse", 19, t1=JSON_U64_MAX, t2=73_700, t3=73_700))
    configure = msg("configure", 4, sampleRateCentihertz=1000, batchSize=1)
    valid("configure", "CONFIGURE 10 Hz, batchSize 1 (send READINGs).", configure)
    valid("configure_keep_current", "CONFIGURE with 0 and 0: keep the current rate and batch "
          "size.", msg("configure", 5, sampleRateCentihertz=0, batchSize=0))
    valid("configure_out_of_range_values", "CONFIGURE with rate 5000 and batchSize 99 decodes "
          "(the device answers NACK outOfRange, 5.6; not a decoder rejection).",
          msg("configure", 6, sampleRateCentihertz=5000, batchSize=99))
    valid("ack_configure", "ACK answering CONFIGURE (type 0x30) sequence 4.",
          msg("ack", 19, answeredType=0x30, answeredSequence=4))
    for seq, (reason, answered, answered_seq, why) in enumerate([
            ("unknownType", 0x7F, 7, "a frame of unknown type 0x7F"),
            ("unsupportedVersion", 0x01, 0, "a version-2 CONNECT"),
            ("badPayload", 0x30, 8, "a CONFIGURE with a bad payload"),
            ("outOfRange", 0x30, 6, "a CONFIGURE with out-of-range values"),
            ("notConnected", 0x30, 2, "a CONFIGURE while waiting"),
            ("busy", 0x30, 65_535, "a CONFIGURE at answeredSequence 65535")], start=20):
        snake = "".join("_" + ch.lower() if ch.isupper() else ch for ch in reason)
        valid(f"nack_{snake}", f"NACK {reason} answering {why}.",
              nack(seq, answered, answered_seq, reason))
    valid("fault_buffer_overflow", "FAULT bufferOverflow (2), warning, detail 1532 readings "
          "dropped so far.", msg("fault", 250, code=2, severity="warning", detail=1_532,
                                 deviceTimeMs=904_512))
    valid("fault_watchdog_reset_info", "FAULT watchdogReset (3), severity info, detail 0.",
          msg("fault", 1, code=3, severity="info", detail=0, deviceTimeMs=12))
    valid("fault_vendor_specific_max_values", "FAULT with vendor code 0xFFFF, severity error, "
          "detail u32 max, deviceTimeMs 2^53-1.",
          msg("fault", 65_534, code=0xFFFF, severity="error", detail=U32_MAX,
              deviceTimeMs=JSON_U64_MAX))

    # ---- COBS edge cases ---------------------------------------------------------------
    # A frame without any 0x00 (u64 fields below 2^53 always hold one, so: a CONNECT).
    seq = next(s for s in range(0x0101, 0x10000)
               if 0 not in encode_frame(msg("connect", s, protocolVersion=1,
                                            sessionId=0x5A17C3E9)))
    no_zero = msg("connect", seq, protocolVersion=1, sessionId=0x5A17C3E9)
    valid("frame_without_zero_bytes", "A CONNECT frame with no 0x00 byte at all: one COBS "
          "code byte (0x0f) then the 14 frame bytes.", no_zero)
    index = next(i for i in range(1000, 100_000)
                 if encode_frame(reading(310, i, 81_000, 700))[-1] == 0)
    valid("frame_ending_with_zero_byte", "A READING whose last CRC byte is 0x00, so the "
          "encoding ends with code 0x01.", reading(310, index, 81_000, 700))
    valid("heartbeat_all_zero_payload", "HEARTBEAT at boot with sequence 0 and an all-zero "
          "payload: a run of 0x01 codes.", heartbeat(0, 0, "waiting"))

    # ---- the 250/251 encoded-byte boundary ---------------------------------------------
    big = build_frame(0x7F, 77, bytes(range(1, 241)), seed=0)
    assert len(big) == 249 and len(cobs_encode(big)) == MAX_ENCODED
    reject("boundary_250_encoded_unknown_type", "A 249-byte frame (N = 240) of unknown type "
           "0x7F encodes to exactly 250 bytes: judged normally (unknownType), then a READING "
           "decodes.", big, "unknownType", after=reading(311, 1001, 81_100, 702))
    long_batch = raw_payload(max_batch) + b"\x01\x02"
    reject("boundary_250_encoded_batch_too_long", "READING_BATCH with count 45 and 2 extra "
           "bytes (N = 240, valid CRC): 250 encoded bytes, judged normally, payload.",
           build_frame(0x11, 406, long_batch), "payload", after=reading(312, 1002, 81_200, 703))
    too_big = build_frame(0x11, 407, long_batch + b"\x03")
    assert len(cobs_encode(too_big)) == MAX_ENCODED + 1
    reject("oversize_251_encoded_bytes", "A 250-byte frame (N = 241) encodes to 251 bytes: "
           "oversize at the 251st byte; the next READING decodes.", too_big, "oversize",
           after=reading(313, 1003, 81_300, 704))
    noise = bytes(random.Random("oversize noise").randint(1, 255) for _ in range(400))
    add("oversize_long_noise_then_frame", "400 bytes of noise without 0x00, then 0x00 0x00 "
        "(the first ends the discarding, the second is an ignored empty candidate): one "
        "oversize rejection counting all 400 bytes, then a READING decodes.",
        noise + b"\x00\x00" + encode(reading(314, 1004, 81_400, 705)),
        [rejected("oversize"), ok(reading(314, 1004, 81_400, 705))], 400)
    add("oversize_swallows_next_frame", "260 noise bytes without 0x00, then READING A, then "
        "READING B: oversize at byte 251, A's bytes are discarded up to its 0x00 and A is lost; "
        "B decodes.", noise[:260] + encode(reading(315, 1005, 81_500, 706))
        + encode(reading(316, 1006, 81_600, 707)),
        [rejected("oversize"), ok(reading(316, 1006, 81_600, 707))],
        260 + discarded(encode(reading(315, 1005, 81_500, 706))))
    add("oversize_unterminated", "300 noise bytes and no 0x00 yet: oversize is reported at "
        "byte 251 and all 300 bytes count as discarded, none as pending.", noise[:300],
        [rejected("oversize")], 300, 0)

    # ---- streams ----------------------------------------------------------------------
    device_stream = [hello_answer, msg("timeSyncResponse", 18, t1=EPOCH, t2=73_611, t3=73_612),
                     heartbeat(20, 74_004, "connected", 3), reading(21, 735, 74_100, 590),
                     reading(22, 736, 74_200, 0, "noEcho"), several, heartbeat(23, 75_004,
                                                                             "connected")]
    add("device_stream_back_to_back", "Seven device frames back to back, one delimiter each: "
        "seven messages in order.", b"".join(encode(m) for m in device_stream),
        [ok(m) for m in device_stream])
    host_stream = [connect, tsreq, msg("timeSyncRequest", 3, t1=EPOCH + 100), configure,
                   heartbeat(5, EPOCH + 1_000, "connected")]
    add("host_stream_with_leading_delimiter", "What a host sends after opening the port: one "
        "0x00 (ignored), CONNECT, two TIME_SYNC_REQUESTs, CONFIGURE, HEARTBEAT.",
        b"\x00" + b"".join(encode(m) for m in host_stream), [ok(m) for m in host_stream])
    a, b = reading(320, 1010, 82_000, 650), reading(321, 1011, 82_100, 651)
    add("extra_delimiters_ignored", "0x00 0x00, a READING, three more 0x00, a READING, 0x00 "
        "0x00: empty candidates are ignored and not counted.",
        b"\x00\x00" + encode(a) + b"\x00\x00\x00" + encode(b) + b"\x00\x00", [ok(a), ok(b)])
    add("only_delimiters", "Five 0x00 bytes: five empty candidates, no event, nothing "
        "discarded.", b"\x00" * 5, [])
    garbage_v3 = cobs_encode(bytes([3, 0x10, 1, 0, 15]) + bytes(19))
    add("noise_with_delimiters_then_frame", "Line noise containing 0x00s: de ad be ef (cobs), "
        "01 (decodes to 0 bytes: tooShort), 05 11 22 33 44 (4 bytes: tooShort), a 24-byte "
        "frame of version 3 (version); then a READING decodes.",
        bytes.fromhex("deadbeef00" "0100" "051122334400") + garbage_v3 + b"\x00" + encode(a),
        [rejected("cobs"), rejected("tooShort"), rejected("tooShort"), rejected("version"),
         ok(a)], 4 + 1 + 5 + len(garbage_v3))
    merged_noise = bytes.fromhex("a55ac3")
    add("noise_without_delimiter_merges_with_next_frame", "Noise a5 5a c3 without a 0x00 "
        "merges with READING A into one candidate (rejected: cobs), so A is lost; READING B "
        "decodes.", merged_noise + encode(a) + encode(b), [rejected("cobs"), ok(b)],
        3 + discarded(encode(a)))
    tail = encode(hello_answer)[20:]
    hb = heartbeat(21, 74_504, "connected")
    add("host_opened_port_mid_frame", "The host opened the port in the middle of a HELLO: its "
        "last bytes form one rejected candidate (cobs), then a HEARTBEAT decodes.",
        tail + encode(hb), [rejected("cobs"), ok(hb)], discarded(tail))
    half = encode(several)[:20]
    reboot_hello = hello(0, deviceTimeMs=1_002, sessionId=0, bootId=0x0BADF00D)
    reboot_hb = heartbeat(1, 1_004, "waiting")
    add("device_reset_mid_frame", "The device reset after sending 20 bytes of a READING_BATCH, "
        "then sent an unsolicited HELLO and a HEARTBEAT: the half batch and the HELLO merge "
        "into one rejected candidate (length), so the HELLO is lost; the HEARTBEAT decodes.",
        half + encode(reboot_hello) + encode(reboot_hb), [rejected("length"), ok(reboot_hb)],
        len(half) + discarded(encode(reboot_hello)))
    add("device_reset_mid_frame_with_leading_delimiter", "As device_reset_mid_frame, but the "
        "rebooted device sends one 0x00 first: only the half batch is rejected (length: its 20 "
        "bytes happen to decode), the HELLO and the HEARTBEAT decode.",
        half + b"\x00" + encode(reboot_hello) + encode(reboot_hb),
        [rejected("length"), ok(reboot_hello), ok(reboot_hb)], len(half))
    c = reading(322, 1012, 82_200, 652)
    split = encode(c)[:9] + b"\x00" + encode(c)[9:]
    add("zero_injected_mid_frame", "Line noise turned a READING into two candidates by "
        "inserting a 0x00 after its 9th byte: two rejections (the head decodes to 8 bytes: "
        "tooShort; the tail starts with 0x18: version), then a READING decodes.",
        split + encode(b), [rejected("tooShort"), rejected("version"), ok(b)],
        len(split) - 2)
    add("trailing_partial_frame", "A READING then the first 10 bytes of the next one, no "
        "delimiter yet: one message and 10 pending bytes.", encode(a) + encode(b)[:10],
        [ok(a)], 0, 10)
    add("empty_input", "No bytes at all: no event, nothing discarded or pending.", b"", [])

    # ---- every rejection outcome -------------------------------------------------------
    good = encode(c)
    frame_c = encode_frame(c)
    assert good[-2] != 0 and len(cobs_decode(good[:-1])) == len(frame_c)
    last_code = max(i for i in range(len(good) - 1)
                    if i == 0 or good[i] == len(good) - 1 - i)  # the code byte of the last block
    past = good[:last_code] + bytes([good[last_code] + 1]) + good[last_code + 1:]
    reject("cobs_code_past_delimiter", "A READING whose last COBS code byte is one too large: "
           "it announces a byte past the delimiter (cobs); a READING follows.", past, "cobs",
           encoded=True, after=b)
    reject("cobs_first_code_0xff", "A READING whose first code byte is 0xFF (254 bytes "
           "announced, 24 remain): cobs.", b"\xff" + good[1:], "cobs", encoded=True)
    reject("too_short_8_bytes", "A frame of 8 decoded bytes (header + 3): tooShort.",
           bytes([1, 0x40, 5, 0, 0, 0xAA, 0xBB, 0xCC]), "tooShort", after=b)
    reject("too_short_single_code_byte", "The candidate 01 decodes to an empty frame: tooShort "
           "(it is not an empty candidate, which would be ignored).", b"\x01\x00", "tooShort",
           encoded=True)
    reject("version_2", "A READING with version byte 2 and a CRC valid for it: version.",
           raw_frame(c, version=2), "version", after=b)
    reject("version_0", "A READING with version byte 0: version.", raw_frame(c, version=0),
           "version")
    reject("length_one_too_large", "A READING whose length byte says 16 (payload is 15), CRC "
           "computed over it: length.", raw_frame(c, length=16), "length", after=b)
    reject("length_one_too_small", "A READING whose length byte says 14: length.",
           raw_frame(c, length=14), "length")
    reject("unknown_type_0x7f", "A well-formed frame of type 0x7F with a 4-byte payload: "
           "unknownType; a READING follows.", build_frame(0x7F, 7, b"\x01\x02\x03\x04", seed=0),
           "unknownType", after=b)
    reject("unknown_type_0x00", "A well-formed frame of type 0x00, empty payload: "
           "unknownType.", build_frame(0x00, 8, b"", seed=0), "unknownType")
    payload_at = HEADER_SIZE + 12  # the low byte of distanceMm
    reject("crc_payload_bit_flipped", "A READING with one bit of its distance flipped: crc; "
           "a READING follows.", flip_bit(frame_c, payload_at, 3), "crc", after=b)
    reject("crc_bit_flipped_in_crc", "A READING with one bit of its CRC flipped: crc.",
           flip_bit(frame_c, len(frame_c) - 2, 7), "crc")
    reject("crc_sequence_bit_flipped", "A READING with one bit of its sequence flipped: crc.",
           flip_bit(frame_c, 2, 0), "crc")
    reject("crc_wrong_seed", "READING bytes whose CRC used HEARTBEAT's seed 0x34 instead of "
           "0x80 (a peer with another layout): crc.",
           raw_frame(c, seed=BY_NAME["HEARTBEAT"].seed), "crc", after=b)
    reject("payload_reading_status_4", "A READING with status 4, valid CRC: payload.",
           raw_frame(c, raw_payload(c, status=4)), "payload", after=b)
    reject("payload_reading_size_16", "A READING with a 16-byte payload (length byte and CRC "
           "consistent): payload.", raw_frame(c, raw_payload(c) + b"\x00"), "payload")
    reject("payload_ack_size_2", "An ACK with a 2-byte payload: payload.",
           build_frame(0x40, 30, b"\x30\x04"), "payload")
    reject("payload_connect_empty", "A CONNECT with an empty payload: the smallest frame (9 "
           "bytes) with a valid CRC; payload.", build_frame(0x01, 1, b""), "payload")
    reject("payload_hello_size_44", "A HELLO missing its last byte (44 bytes): payload.",
           raw_frame(hello_answer, raw_payload(hello_answer)[:-1]), "payload")
    raw_rows = [{"offsetMs": 0, "distanceMm": 600, "status": 0},
                {"offsetMs": 100, "distanceMm": 601, "status": 0}]
    reject("payload_batch_count_mismatch", "A READING_BATCH with count 3 but 2 readings "
           "(23 bytes, not 28): payload.",
           raw_frame(several, raw_payload(several, raw_rows, count=3)), "payload", after=b)
    reject("payload_batch_count_zero", "A READING_BATCH with count 0 and 13 bytes (consistent "
           "size, but count must be 1 to 45): payload.",
           raw_frame(several, raw_payload(several, [])), "payload")
    reject("payload_batch_shorter_than_header", "A READING_BATCH payload of 12 bytes (no "
           "count byte): payload.", raw_frame(several, raw_payload(several, [])[:12]),
           "payload")
    reject("payload_batch_first_offset_not_zero", "A READING_BATCH whose offsetMs[0] is 100: "
           "payload.", raw_frame(several, raw_payload(several, [
               {"offsetMs": 100, "distanceMm": 600, "status": 0},
               {"offsetMs": 200, "distanceMm": 601, "status": 0}])), "payload")
    reject("payload_batch_offsets_decrease", "A READING_BATCH with offsets 0, 200, 100: "
           "payload.", raw_frame(several, raw_payload(several, raw_rows[:1] + [
               {"offsetMs": 200, "distanceMm": 602, "status": 0},
               {"offsetMs": 100, "distanceMm": 601, "status": 0}])), "payload")
    reject("payload_batch_status_5", "A READING_BATCH whose second reading has status 5: "
           "payload.", raw_frame(several, raw_payload(several, raw_rows[:1] + [
               {"offsetMs": 100, "distanceMm": 601, "status": 5}])), "payload")
    reject("payload_connect_session_zero", "A CONNECT with sessionId 0: payload.",
           raw_frame(connect, raw_payload(connect, sessionId=0)), "payload", after=b)
    reject("payload_hello_min_equals_max", "A HELLO with minDistanceMm == maxDistanceMm "
           "(4000): payload.", raw_frame(hello_answer, raw_payload(hello_answer,
                                                                   minDistanceMm=4000)),
           "payload")
    reject("payload_hello_min_above_max", "A HELLO with min 4000 > max 20: payload.",
           raw_frame(hello_answer, raw_payload(hello_answer, minDistanceMm=4000,
                                               maxDistanceMm=20)), "payload")
    response = msg("timeSyncResponse", 18, t1=EPOCH, t2=73_611, t3=73_612)
    reject("payload_time_sync_response_t2_after_t3", "A TIME_SYNC_RESPONSE with t2 = t3 + 1: "
           "payload.", raw_frame(response, raw_payload(response, t2=73_613)), "payload")
    hb_raw = heartbeat(24, 76_004, "connected")
    reject("payload_heartbeat_state_2", "A HEARTBEAT with state 2: payload.",
           raw_frame(hb_raw, raw_payload(hb_raw, state=2)), "payload")
    nack_raw = nack(31, 0x30, 4, "busy")
    reject("payload_nack_reason_0", "A NACK with reason 0: payload.",
           raw_frame(nack_raw, raw_payload(nack_raw, reason=0)), "payload")
    reject("payload_nack_reason_7", "A NACK with reason 7: payload.",
           raw_frame(nack_raw, raw_payload(nack_raw, reason=7)), "payload")
    fault_raw = msg("fault", 251, code=1, severity="error", detail=0, deviceTimeMs=905_000)
    reject("payload_fault_severity_3", "A FAULT with severity 3: payload.",
           raw_frame(fault_raw, raw_payload(fault_raw, severity=3)), "payload")

    # ---- outcome order: a frame with two faults reports the earlier check ---------------
    reject("order_too_short_before_version", "8 decoded bytes starting with version 2: "
           "tooShort wins.", bytes([2, 0x10, 1, 0, 0, 1, 2, 3]), "tooShort")
    reject("order_version_before_length", "Version 2 and a wrong length byte: version wins.",
           raw_frame(c, version=2, length=3), "version")
    reject("order_length_before_unknown_type", "Type 0x7F and a wrong length byte: length "
           "wins.", build_frame(0x7F, 9, b"\x01\x02\x03\x04", length=5, seed=0), "length")
    reject("order_unknown_type_before_crc", "Type 0x7F with a CRC that matches no seed "
           "(all-zero CRC bytes): unknownType wins.",
           build_frame(0x7F, 10, b"\x01\x02", seed=0)[:-4] + bytes(4), "unknownType")
    reject("order_crc_before_payload", "A READING with status 4 and a flipped CRC bit: crc "
           "wins.", flip_bit(raw_frame(c, raw_payload(c, status=4)), len(frame_c) - 1, 0),
           "crc")
    return cases


# --------------------------------------------------------------------------- device.json (1.1)

HARNESS_SESSION = 0x5EED0001  # the CONNECT a case's `connect` sends (sequence 0)


def host_frame(json_type: str, sequence: int, **fields) -> str:
    """Wire bytes (hex) of a valid host message."""
    return encode(msg(json_type, sequence, **fields)).hex()


def host_raw(type_: int, sequence: int, payload: bytes, **frame_overrides) -> str:
    """Wire bytes (hex) of a frame built by hand (unknown types, other versions, bad payloads)."""
    if type_ not in BY_TYPE and "seed" not in frame_overrides:
        frame_overrides["seed"] = 0
    return wire(build_frame(type_, sequence, payload, **frame_overrides)).hex()


def answer_nack(answered_type: int, answered_sequence: int, reason: str) -> dict:
    return {"type": "nack", "answeredType": answered_type, "answeredSequence": answered_sequence,
            "reason": reason}


def device_case(name, rule, steps, expect, *, connect=None, until=None, rate=1000, batch=1):
    return {"name": name, "rule": rule,
            "settings": {"sampleRateCentihertz": rate, "batchSize": batch},
            "connect": connect, "steps": [{"atMs": t, "hex": h} for t, h in steps],
            "untilMs": until if until is not None else steps[-1][0] + 300, "expect": expect}


def build_device_cases() -> list[dict]:
    heartbeat_req = dict(timeMs=1_700_000_000_000, state="connected", buffered=0, dropped=0)
    configure_ok = dict(sampleRateCentihertz=1600, batchSize=0)
    cases = []
    # 4.7, waiting: requests that need a session are refused; nothing else is answered.
    cases.append(device_case(
        "waiting_configure_is_refused", "4.7 waiting x CONFIGURE",
        [(500, host_frame("configure", 0, **configure_ok))],
        {"answers": [answer_nack(0x30, 0, "notConnected")], "state": "waiting"}))
    cases.append(device_case(
        "waiting_time_sync_is_refused", "4.7 waiting x TIME_SYNC_REQUEST",
        [(500, host_frame("timeSyncRequest", 7, t1=1_700_000_000_123))],
        {"answers": [answer_nack(0x20, 7, "notConnected")], "state": "waiting"}))
    cases.append(device_case(
        "waiting_heartbeat_is_not_answered", "4.7 waiting x HEARTBEAT",
        [(500, host_frame("heartbeat", 3, **heartbeat_req))], {"answers": [], "state": "waiting"}))
    cases.append(device_case(
        "waiting_unknown_type_is_nacked", "4.7 waiting x unknownType",
        [(500, host_raw(0x7E, 0x1234, b"\x01\x02\x03"))],
        {"answers": [answer_nack(0x7E, 0x1234, "unknownType")], "state": "waiting"}))
    cases.append(device_case(
        "waiting_other_version_is_nacked_with_bytes_1_to_3", "4.7 waiting x version; 4.7 NACK fields",
        [(500, host_raw(0x01, 0x0302, b"\x02\x01\x00\x00\x00", version=2))],
        {"answers": [answer_nack(0x01, 0x0302, "unsupportedVersion")], "state": "waiting"}))
    cases.append(device_case(
        "waiting_connect_with_session_zero_is_a_bad_payload", "4.7 waiting x payload",
        [(500, host_raw(0x01, 4, b"\x01\x00\x00\x00\x00"))],
        {"answers": [answer_nack(0x01, 4, "badPayload")], "state": "waiting"}))
    cases.append(device_case(
        "waiting_host_bound_messages_are_ignored", "4.7 waiting x host-bound types",
        [(500, host_frame("reading", 1, index=0, deviceTimeMs=1, distanceMm=500, status="ok")
          + host_frame("ack", 2, answeredType=0x30, answeredSequence=1))],
        {"answers": [], "state": "waiting"}))
    cases.append(device_case(
        "waiting_connect_starts_a_session", "4.2; 4.7 waiting x CONNECT",
        [(500, "00" + host_frame("connect", 0, protocolVersion=1, sessionId=HARNESS_SESSION))],
        {"answers": [{"type": "hello", "protocolVersion": 1, "sessionId": HARNESS_SESSION}],
         "state": "connected"}))
    # 4.7, connected.
    cases.append(device_case(
        "connected_connect_of_a_newer_version_is_answered_with_1", "4.2 CONNECT.protocolVersion",
        [(500, host_frame("connect", 1, protocolVersion=9, sessionId=0x1234))],
        {"answers": [{"type": "hello", "protocolVersion": 1, "sessionId": 0x1234}],
         "state": "connected"}, connect=200))
    cases.append(device_case(
        "connected_configure_of_two_bytes_is_a_bad_payload", "4.7 connected x payload",
        [(500, host_raw(0x30, 1, b"\x40\x06"))],
        {"answers": [answer_nack(0x30, 1, "badPayload")]}, connect=200))
    cases.append(device_case(
        "connected_heartbeat_with_state_7_is_a_bad_payload", "4.7 connected x payload",
        [(500, host_raw(0x03, 1, struct.pack("<QBHI", 1, 7, 0, 0)))],
        {"answers": [answer_nack(0x03, 1, "badPayload")]}, connect=200))
    cases.append(device_case(
        "connected_configure_out_of_range_is_refused", "4.7 connected x CONFIGURE; 5.6",
        [(500, host_frame("configure", 1, sampleRateCentihertz=5000, batchSize=1))],
        {"answers": [answer_nack(0x30, 1, "outOfRange")]}, connect=200))
    cases.append(device_case(
        "connected_configure_is_acknowledged", "4.7 connected x CONFIGURE",
        [(500, host_frame("configure", 1, **configure_ok))],
        {"answers": [{"type": "ack", "answeredType": 0x30, "answeredSequence": 1}]}, connect=200))
    cases.append(device_case(
        "connected_time_sync_is_answered", "4.4; 4.7 connected x TIME_SYNC_REQUEST",
        [(500, host_frame("timeSyncRequest", 1, t1=1_700_000_000_456))],
        {"answers": [{"type": "timeSyncResponse", "t1": 1_700_000_000_456}]},
        connect=200))
    configure_wire = encode(msg("configure", 1, **configure_ok))
    cases.append(device_case(
        "connected_crc_error_is_not_answered", "4.7 connected x crc",
        [(500, flip_bit(configure_wire, 3, 2).hex())], {"answers": []}, connect=200))
    # 4.3: what keeps the link alive (no heartbeats: only the steps).
    every = list(range(500, 5001, 500))
    cases.append(device_case(
        "unknown_types_keep_the_link_alive", "4.3 sign of the host: unknownType",
        [(t, host_raw(0x7F, i + 1, b"")) for i, t in enumerate(every)],
        {"answers": [answer_nack(0x7F, i + 1, "unknownType") for i in range(len(every))],
         "state": "connected"}, connect=200))
    cases.append(device_case(
        "bad_payloads_keep_the_link_alive", "4.3 sign of the host: payload",
        [(t, host_raw(0x01, i + 1, b"\x01\x00\x00\x00\x00")) for i, t in enumerate(every)],
        {"answers": [answer_nack(0x01, i + 1, "badPayload") for i in range(len(every))],
         "state": "connected"}, connect=200))
    cases.append(device_case(
        "other_versions_do_not_keep_the_link_alive", "4.3; 4.7 version, one NACK per second",
        [(t, host_raw(0x03, i + 1, bytes(15), version=2)) for i, t in enumerate(every)],
        {"answers": [answer_nack(0x03, i + 1, "unsupportedVersion")
                     for i, t in enumerate(every) if (t - 500) % 1000 == 0],
         "state": "waiting"}, connect=200))
    cases.append(device_case(
        "host_bound_messages_do_not_keep_the_link_alive", "4.3; 4.7 host-bound types",
        [(t, host_frame("ack", i + 1, answeredType=0x02, answeredSequence=i)) for i, t in enumerate(every)],
        {"answers": [], "state": "waiting"}, connect=200))
    # 4.4: a time sync goes ahead of a backlog (5 s of readings buffered while waiting).
    cases.append(device_case(
        "time_sync_goes_ahead_of_the_backlog", "4.4 time-sync priority",
        [(5000, "00" + host_frame("connect", 0, protocolVersion=1, sessionId=HARNESS_SESSION)
          + host_frame("timeSyncRequest", 1, t1=1_700_000_000_789))],
        {"answers": [{"type": "hello", "sessionId": HARNESS_SESSION},
                     {"type": "timeSyncResponse", "t1": 1_700_000_000_789}],
         "readingFramesBeforeLastAnswer": 1}))
    # 4.5: batch age and settings changes; the host keeps the link with a heartbeat a second.
    beats = [(t, host_frame("heartbeat", i + 1, **heartbeat_req)) for i, t in enumerate(range(1200, 20_001, 1000))]
    for rate, batch in [(100, 45), (1600, 45), (1000, 10)]:
        cases.append(device_case(
            f"a_part_filled_batch_leaves_within_250_ms_{rate}_centihertz_batch_{batch}", "4.5 batch age",
            beats, {"answers": [], "state": "connected", "maxReadingAgeMs": 250},
            connect=200, until=20_000, rate=rate, batch=batch))
    change = [(t, h) for t, h in beats if t < 2130] + [
        (2130, host_frame("configure", 100, sampleRateCentihertz=100, batchSize=0))] + [
        (t, h) for t, h in beats if 2130 < t <= 8000]
    cases.append(device_case(
        "a_batch_never_spans_a_rate_change", "4.5 flush before a settings change",
        change, {"answers": [{"type": "ack", "answeredType": 0x30, "answeredSequence": 100}],
                 "state": "connected", "maxReadingAgeMs": 250, "batchSpacingsMs": [62, 63, 1000]},
        connect=200, until=8000, rate=1600, batch=45))
    return cases


def device_document() -> dict:
    return {"protocolVersion": PROTOCOL_VERSION, "revision": "1.1", "cases": build_device_cases()}


def check_device() -> list[str]:
    """device.json must be exactly what the case definitions give, and every step must decode
    as its definition says (the frames built by hand to their stated outcomes)."""
    problems = []
    if json.loads(DEVICE_PATH.read_text()) != device_document():
        problems.append("device.json differs from the cases defined in reference.py (run --write)")
    for case in build_device_cases():
        for step in case["steps"]:
            events, _, pending, _ = decode_stream(bytes.fromhex(step["hex"]))
            if pending or not events:
                problems.append(f"{case['name']}: step at {step['atMs']} ms is not whole frames")
    return problems


# --------------------------------------------------------------------------- CLI


def dump(document) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write() -> None:
    cases = build_cases()
    for case in cases:  # every expectation written by hand must hold for this decoder
        problems = check_case(case, slicings=0)
        if problems:
            raise SystemExit(f"case {case['name']}: " + "; ".join(problems))
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    FRAMES_PATH.write_text(dump({"protocolVersion": PROTOCOL_VERSION, "cases": cases}))
    SEEDS_PATH.write_text(dump(seeds_document()))
    device = device_document()
    DEVICE_PATH.write_text(dump(device))
    print(f"wrote {len(cases)} cases to {FRAMES_PATH.name}, {len(SPECS)} seeds to "
          f"{SEEDS_PATH.name} and {len(device['cases'])} cases to {DEVICE_PATH.name}")


def check_case(case: dict, slicings: int = 100) -> list[str]:
    problems = []
    data = bytes.fromhex(case["hex"])
    if data.hex() != case["hex"]:
        problems.append("hex is not lowercase without separators")
    want = (case["events"], case["bytesDiscarded"], case["pendingBytes"])
    rng = random.Random(f"slicing:{case['name']}")
    feeds = [("whole", None), ("byte by byte", list(range(1, len(data))))]
    for i in range(slicings):
        k = rng.randint(1, max(1, min(len(data) - 1, 20)))
        feeds.append((f"random slicing {i}", sorted(rng.sample(range(len(data) + 1), k))))
    for label, cuts in feeds:
        events, discarded, pending, decoder = decode_stream(data, cuts)
        got = (events, discarded, pending)
        if got != want:
            problems.append(f"{label}: got events={events} bytesDiscarded={discarded} "
                            f"pendingBytes={pending}, want events={want[0]} "
                            f"bytesDiscarded={want[1]} pendingBytes={want[2]}")
            break
        tally = Counter(e["rejected"] for e in events if "rejected" in e)
        if decoder.rejections != tally:
            problems.append(f"{label}: per-outcome counters {dict(decoder.rejections)}")
            break
    if case["encodes"]:
        if len(case["events"]) != 1 or "message" not in case["events"][0]:
            problems.append("encodes is true but events is not exactly one message")
        else:
            try:
                encoded = encode(case["events"][0]["message"])
            except (ValueError, KeyError, TypeError, struct.error) as error:
                problems.append(f"encoding failed: {error}")
            else:
                if encoded != data:
                    problems.append(f"encodes to {encoded.hex()}, not hex")
    return problems


def check() -> int:
    failures = 0
    document = json.loads(FRAMES_PATH.read_text())
    if document.get("protocolVersion") != PROTOCOL_VERSION:
        print("frames.json: protocolVersion is not 1")
        failures += 1
    keys = ["name", "description", "hex", "events", "bytesDiscarded", "pendingBytes", "encodes"]
    for case in document["cases"]:
        if list(case) != keys:
            print(f"FAIL {case.get('name')}: keys {list(case)} != {keys}")
            failures += 1
            continue
        for problem in check_case(case):
            print(f"FAIL {case['name']}: {problem}")
            failures += 1
    if json.loads(SEEDS_PATH.read_text()) != seeds_document():
        print("FAIL seeds.json differs from the seeds computed from the signatures")
        failures += 1
    for problem in check_device():
        print(f"FAIL device.json: {problem}")
        failures += 1
    total = len(document["cases"])
    encodes = sum(c.get("encodes") is True for c in document["cases"])
    if failures:
        print(f"{failures} failure(s) in {total} cases")
        return 1
    print(f"ok: {total} cases decoded whole, byte by byte and in 100 random slicings each; "
          f"{encodes} re-encoded; seeds.json matches; device.json matches its "
          f"{len(build_device_cases())} case definitions")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="regenerate frames.json, seeds.json")
    group.add_argument("--check", action="store_true", help="verify frames.json and seeds.json")
    args = parser.parse_args()
    if args.write:
        write()
        return 0
    return check()


if __name__ == "__main__":
    sys.exit(main())
