-- wrk script for bench_web.py: cycle through the request paths listed (one a line) in the
-- file named by $BENCH_PATHS, wait $BENCH_DELAY_MS milliseconds before each request on a
-- connection (0: as fast as possible), and print the results as one JSON line.
--
-- Every thread starts at a different offset so that the connections do not ask for the same
-- path at the same moment.

local paths = {}
local counter = 0
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

local function load_paths()
  local list = {}
  for line in io.lines(os.getenv("BENCH_PATHS")) do
    if #line > 0 then list[#list + 1] = line end
  end
  return list
end

local thread_id = 0
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  paths = load_paths()
  counter = (id or 0) * 7919
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "p999_us": %d, "max_us": %d, "mean_us": %.1f, "err_connect": %d, ' ..
    '"err_read": %d, "err_write": %d, "err_status": %d, "err_timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
    latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
