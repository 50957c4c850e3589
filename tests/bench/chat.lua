-- wrk script for tests/bench/proxy_overhead.sh: POSTs the request body (a chat completion or an
-- Anthropic message) in the file named by $BENCH_BODY to the URL's path, with the headers in
-- $BENCH_HEADERS, and at the end prints one machine-readable line:
--   BENCH requests=N duration_us=N p50_us=N p90_us=N p99_us=N max_us=N connect=N read=N
--         write=N status=N timeout=N bytes=N
-- `status` is wrk's count of responses with a status >= 400 (what it prints as "Non-2xx or 3xx
-- responses"); the connect/read/write/timeout counts are its socket errors. The percentiles come
-- from the same histogram as `wrk --latency`. No response() hook on purpose: defining one makes
-- wrk hand every response to Lua, which would make the load generator the bottleneck.
local path = os.getenv("BENCH_BODY")
if path == nil or path == "" then
  error("BENCH_BODY (the request body file) is not set")
end
local file = assert(io.open(path, "rb"))
local body = file:read("*a")
file:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
-- $BENCH_HEADERS: extra request headers, one "Name: value" per line (e.g. the API key as
-- "Authorization: Bearer syk_..." or "x-api-key: syk_...").
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\r\n]+") do
  local name, value = line:match("^([%w-]+):%s*(.-)%s*$")
  if name == nil then
    error("BENCH_HEADERS: not a 'Name: value' line: " .. line)
  end
  wrk.headers[name] = value
end
if os.getenv("BENCH_STREAM") == "1" then
  wrk.headers["Accept"] = "text/event-stream"
else
  wrk.headers["Accept"] = "application/json"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "connect=%d read=%d write=%d status=%d timeout=%d bytes=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout,
      summary.bytes))
end
