-- wrk script: POST pre-built NDJSON bodies of step-trainer readings, cycling through them.
--
--   wrk -s post_readings.lua URL -- BATCH BODIES SERIAL TOKEN BASE_MS [RATE] [PATH]
--
-- Each wrk thread builds BODIES distinct requests of BATCH readings at start-up (so the timed
-- part only sends bytes), with sensorReadingTime unique within a thread's whole cycle and
-- across threads: BASE_MS + ((thread * BODIES + body) * BATCH + i). The cycle repeats after
-- BODIES requests per thread. done() prints one line `WRK_JSON {...}` for compare.py.
--
-- RATE (requests per second per thread, default 0 = as fast as the service answers): paces the
-- thread's requests to one every 1/RATE s on a fixed schedule, through wrk's delay() hook (called
-- after each response; the first request of each connection goes at once). A connection still
-- waiting for its previous answer when its slot comes sends late; such slots are counted as
-- `behind` and the schedule restarts from now (so an overloaded service shows a lower achieved
-- rate and a `behind` count rather than hidden queueing: wrk measures from each send).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *ts);
]]
local now_ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, now_ts) -- CLOCK_MONOTONIC
  return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local batch = tonumber(args[1])
  local bodies = tonumber(args[2])
  local serial = args[3]
  local token = args[4]
  local base = tonumber(args[5])
  local rate = tonumber(args[6] or "0")
  local path = args[7] or "/v1/step-trainer/readings"
  interval = rate > 0 and 1000 / rate or 0
  next_slot = nil
  behind = 0
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/x-ndjson",
  }
  local fmt = '{"sensorReadingTime":%.0f,"serialNumber":"%s","distanceFromObject":%d}'
  requests = {}
  for b = 0, bodies - 1 do
    local first = base + (id * bodies + b) * batch
    local lines = {}
    for i = 0, batch - 1 do
      local t = first + i
      lines[i + 1] = string.format(fmt, t, serial, 150 + (t % 151))
    end
    requests[b + 1] = wrk.format("POST", path, headers, table.concat(lines, "\n") .. "\n")
  end
  cursor = 0
end

function request()
  cursor = cursor % #requests + 1
  return requests[cursor]
end

function delay()
  if interval == 0 then
    return 0
  end
  local now = now_ms()
  if next_slot == nil then
    next_slot = now
  end
  next_slot = next_slot + interval
  if next_slot < now - 1 then
    behind = behind + 1
    next_slot = now
  end
  return math.max(0, math.floor(next_slot - now))
end

function done(summary, latency, requests)
  local e = summary.errors
  local late = 0
  for _, thread in ipairs(threads) do
    late = late + (thread:get("behind") or 0)
  end
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"behind":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,' ..
    '"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes, late,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
