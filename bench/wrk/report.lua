-- wrk reporter: after the run prints one line `WRK_JSON {...}` with exact figures
-- (latencies in microseconds), so bench/run.mjs need not parse wrk's rounded text.
-- The POST script (chat.lua) loads this file; GET runs use it alone.

-- Every subject gets the same client key; only Switchyard's "keys" subject checks it.
wrk.headers["Authorization"] = "Bearer client-key"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.2f,"max_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
