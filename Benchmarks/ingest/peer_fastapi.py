"""The ingest service most teams would write instead of `stedi serve`: FastAPI on uvicorn.

Same endpoint, body formats, token check, answers and landing files as `stedi serve` for
step-trainer readings, written the usual way:

- `POST /v1/step-trainer/readings`, `Authorization: Bearer <token>`, a body of NDJSON or a JSON
  array of `{"sensorReadingTime": int, "serialNumber": str, "distanceFromObject": number}`;
  each record is validated with a pydantic model (strict: required fields, an int is not a
  string or 1.0), re-rendered with `model_dump_json()`, and the request answered
  202 `{"accepted": N}` (all or nothing: 400 on the first bad record, 401 on a bad token,
  403 when a device token's serial is not the reading's, 413 on a body over --max-body-bytes,
  503 when --max-buffered-bytes would be passed).
- The token is checked like stedi does: `stedi1.<base64url(claims)>.<base64url(HMAC-SHA256)>`
  with the key in $STEDI_TOKEN_KEY, signature, expiry, role, and the serial of every reading.
- Records wait in memory per source and become one NDJSON file in
  `<lake>/step_trainer/landing/` when the buffer reaches --batch-max-records records,
  --batch-max-bytes bytes or --batch-max-age seconds: written to a hidden temp file, fsynced,
  and renamed with os.replace, in a thread so the event loop keeps serving.
- On SIGTERM/SIGINT uvicorn stops taking requests, finishes the ones in flight, and the
  lifespan shutdown lands everything buffered; the worker writes its counts to
  `<lake>/_peer/stats-<pid>.json` and exits 0.
- `GET /stats` (this worker's acknowledged / landed counts) and `GET /healthz`.

What it does NOT do, like most such services: no write-ahead log. A 202 here means "in this
process's memory", not "on disk": a crash or power cut loses up to a whole batch (100,000
readings by default) that was acknowledged. stedi acknowledges only after an fdatasync of its
log. The benchmark therefore favours this peer on durability cost.

    python peer_fastapi.py --lake DIR --port 0 [--workers 1] [--batch-max-records N]
        [--batch-max-bytes N] [--batch-max-age S] [--max-buffered-bytes N] [--max-body-bytes N]

prints `listening on http://127.0.0.1:PORT` as its first stdout line, like `stedi serve`.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import sys
import time
import uuid
from contextlib import asynccontextmanager

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

# ------------------------------------------------------------------ settings --
# From the environment, so every uvicorn worker (a fresh interpreter with --workers 2) has them.

LAKE = os.environ.get("PEER_LAKE", "lake")
MAX_RECORDS = int(os.environ.get("PEER_BATCH_MAX_RECORDS", "100000"))
MAX_BYTES = int(os.environ.get("PEER_BATCH_MAX_BYTES", str(8 << 20)))
MAX_AGE = float(os.environ.get("PEER_BATCH_MAX_AGE", "60"))
MAX_BUFFERED = int(os.environ.get("PEER_MAX_BUFFERED_BYTES", str(256 << 20)))
MAX_BODY = int(os.environ.get("PEER_MAX_BODY_BYTES", str(16 << 20)))
TOKEN_KEY = os.environ.get("STEDI_TOKEN_KEY", "").encode()
INSTANCE = uuid.uuid4().hex[:12]


# -------------------------------------------------------------------- model --

class StepTrainerReading(BaseModel):
    model_config = ConfigDict(strict=True)

    sensorReadingTime: int
    serialNumber: str
    distanceFromObject: float


READINGS = TypeAdapter(list[StepTrainerReading])


# -------------------------------------------------------------------- auth --

def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_token(authorization: str | None) -> dict:
    """The token's claims, or HTTPException 401 (missing, malformed, bad signature, expired)."""
    if not authorization:
        raise HTTPException(401, "missing_token", headers={"WWW-Authenticate": "Bearer"})
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing_token", headers={"WWW-Authenticate": "Bearer"})
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "stedi1":
        raise HTTPException(401, "malformed_token", headers={"WWW-Authenticate": "Bearer"})
    try:
        mac = _b64url_decode(parts[2])
    except ValueError:
        raise HTTPException(401, "malformed_token", headers={"WWW-Authenticate": "Bearer"})
    expected = hmac.new(TOKEN_KEY, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise HTTPException(401, "bad_signature", headers={"WWW-Authenticate": "Bearer"})
    try:
        claims = json.loads(_b64url_decode(parts[1]))
        exp, role, sub = claims["exp"], claims["role"], claims["sub"]
    except (ValueError, KeyError, TypeError):
        raise HTTPException(401, "malformed_token", headers={"WWW-Authenticate": "Bearer"})
    if not exp > time.time():
        raise HTTPException(401, "expired_token", headers={"WWW-Authenticate": "Bearer"})
    return {"role": role, "sub": sub}


# ---------------------------------------------------------------- batching --

class Batcher:
    """Per-source buffers of NDJSON lines, sealed into landing files by count, bytes or age."""

    def __init__(self):
        self.buffers = {}          # source -> [chunks, records, bytes, oldest monotonic]
        self.reserved = 0          # bytes buffered or being landed
        self.landing = set()       # landing tasks
        self.sequence = 0
        self.acknowledged = 0
        self.landed = 0
        self.files = 0

    def add(self, source: str, ndjson: bytes, count: int):
        if self.reserved + len(ndjson) > MAX_BUFFERED:
            raise HTTPException(503, "buffers_full", headers={"Retry-After": "1"})
        self.reserved += len(ndjson)
        buffer = self.buffers.get(source)
        if buffer is None:
            buffer = self.buffers[source] = [[], 0, 0, time.monotonic()]
        buffer[0].append(ndjson)
        buffer[1] += count
        buffer[2] += len(ndjson)
        if buffer[1] >= MAX_RECORDS or buffer[2] >= MAX_BYTES:
            self.seal(source)

    def seal(self, source: str):
        buffer = self.buffers.pop(source, None)
        if not buffer or not buffer[1]:
            return
        self.sequence += 1
        name = f"{source}-{int(time.time() * 1000)}-{INSTANCE}-{self.sequence}.json"
        task = asyncio.get_running_loop().create_task(self._land(source, name, b"".join(buffer[0]), buffer[1]))
        self.landing.add(task)
        task.add_done_callback(self.landing.discard)

    async def _land(self, source: str, name: str, data: bytes, count: int):
        folder = os.path.join(LAKE, source, "landing")
        await asyncio.to_thread(write_atomically, folder, name, data)
        self.reserved -= len(data)
        self.landed += count
        self.files += 1

    def seal_aged(self):
        now = time.monotonic()
        for source, buffer in list(self.buffers.items()):
            if now - buffer[3] >= MAX_AGE:
                self.seal(source)

    async def flush_all(self):
        for source in list(self.buffers):
            self.seal(source)
        while self.landing:
            await asyncio.gather(*list(self.landing))


def write_atomically(folder: str, name: str, data: bytes):
    """temp file beside the final one, fsync, os.replace: readers never see half a file."""
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, os.path.join(folder, name))


batcher = Batcher()


async def seal_aged_forever():
    tick = min(max(MAX_AGE / 4, 0.01), 1.0)
    while True:
        await asyncio.sleep(tick)
        batcher.seal_aged()


@asynccontextmanager
async def lifespan(app: FastAPI):
    ager = asyncio.create_task(seal_aged_forever())
    yield
    ager.cancel()
    await batcher.flush_all()
    stats_folder = os.path.join(LAKE, "_peer")
    os.makedirs(stats_folder, exist_ok=True)
    with open(os.path.join(stats_folder, f"stats-{os.getpid()}.json"), "w") as f:
        json.dump(stats(), f)
    print(f"stopped; landed {batcher.landed} of {batcher.acknowledged} acknowledged readings", file=sys.stderr)


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


def stats():
    return {"pid": os.getpid(), "acknowledged": batcher.acknowledged, "landed": batcher.landed,
            "files": batcher.files, "bufferedBytes": batcher.reserved}


# ----------------------------------------------------------------- routes --

def parse_readings(body: bytes) -> list[StepTrainerReading]:
    """Every record of a JSON array or NDJSON body, validated; HTTPException 400 on the first bad one."""
    stripped = body.lstrip()
    if stripped.startswith(b"["):
        try:
            return READINGS.validate_json(body)
        except ValidationError as error:
            first = error.errors()[0]
            raise HTTPException(400, {"reason": first["type"], "record": _record_index(first["loc"]),
                                      "field": _field(first["loc"]), "message": first["msg"]})
    readings = []
    for line_number, line in enumerate(body.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            readings.append(StepTrainerReading.model_validate_json(line))
        except ValidationError as error:
            first = error.errors()[0]
            raise HTTPException(400, {"reason": first["type"], "line": line_number,
                                      "field": _field(first["loc"]), "message": first["msg"]})
    return readings


def _record_index(loc):
    return loc[0] + 1 if loc and isinstance(loc[0], int) else None


def _field(loc):
    names = [part for part in loc if isinstance(part, str)]
    return names[0] if names else None


@app.post("/v1/step-trainer/readings", status_code=202)
async def step_trainer_readings(request: Request, authorization: str | None = Header(default=None)):
    claims = verify_token(authorization)
    if claims["role"] not in ("device", "admin"):
        raise HTTPException(403, "wrong_role")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise HTTPException(413, "too_large")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, "too_large")
    readings = parse_readings(body)
    if not readings:
        raise HTTPException(400, "empty")
    if claims["role"] == "device":
        for reading in readings:
            if reading.serialNumber != claims["sub"]:
                raise HTTPException(403, "wrong_serial")
    ndjson = ("\n".join(reading.model_dump_json() for reading in readings) + "\n").encode()
    batcher.add("step_trainer", ndjson, len(readings))
    batcher.acknowledged += len(readings)
    return {"accepted": len(readings)}


@app.get("/stats")
async def get_stats():
    return stats()


@app.get("/healthz")
async def healthz():
    return JSONResponse({"status": "ok", "bufferedBytes": batcher.reserved})


# ------------------------------------------------------------------ main --

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lake", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--batch-max-records", type=int, default=MAX_RECORDS)
    p.add_argument("--batch-max-bytes", type=int, default=MAX_BYTES)
    p.add_argument("--batch-max-age", type=float, default=MAX_AGE)
    p.add_argument("--max-buffered-bytes", type=int, default=MAX_BUFFERED)
    p.add_argument("--max-body-bytes", type=int, default=MAX_BODY)
    args = p.parse_args()
    if len(TOKEN_KEY) < 32:
        raise SystemExit("STEDI_TOKEN_KEY must be set to at least 32 bytes")
    os.environ.update({
        "PEER_LAKE": os.path.abspath(args.lake),
        "PEER_BATCH_MAX_RECORDS": str(args.batch_max_records),
        "PEER_BATCH_MAX_BYTES": str(args.batch_max_bytes),
        "PEER_BATCH_MAX_AGE": str(args.batch_max_age),
        "PEER_MAX_BUFFERED_BYTES": str(args.max_buffered_bytes),
        "PEER_MAX_BODY_BYTES": str(args.max_body_bytes),
    })
    port = args.port
    if port == 0:
        # uvicorn logs ":0" for port 0; pick a free port here so the first line can say which. (Passing
        # the bound socket with fd= would be race-free, but uvicorn wraps such a socket as AF_UNIX,
        # and then the event loop does not set TCP_NODELAY on accepted connections: Nagle + delayed
        # ACKs add ~40 ms to answers written in two parts, which Starlette's are.)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((args.host, 0))
            port = probe.getsockname()[1]
    print(f"listening on http://{args.host}:{port}", flush=True)

    # uvicorn re-raises the SIGTERM it caught once it has shut down cleanly (lifespan done, files
    # landed); exit 0 then, as `stedi serve` does, instead of dying of the signal.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    import uvicorn
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    uvicorn.run("peer_fastapi:app", host=args.host, port=port, workers=args.workers, loop="uvloop",
                http="httptools", log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
