-- wrk script for bench/love_bench.sh: every request is one love batch,
--   POST /api/v1/broadcasts/{id}/love  {"batch_id": "<thread>-<n>", "taps": [5 video seconds]}
-- with the user token of viewer (n * threads + thread) mod #tokens, so consecutive requests of
-- a connection come from different viewers and every batch id is new (nothing is a retry).
-- LOVE_TOKENS: a Lua file returning the list of tokens; LOVE_POS: the media second the taps
-- carry (the broadcast's position when the run starts).
local tokens = dofile(os.getenv("LOVE_TOKENS"))
local pos = tonumber(os.getenv("LOVE_POS") or "1")
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  nthreads = next_id
  local t = {}
  for i = 0, 4 do t[#t + 1] = string.format("%.2f", pos + i * 0.1) end
  taps = table.concat(t, ",")
end

function request()
  n = n + 1
  local token = tokens[(n * 16 + (tid or 0)) % #tokens + 1]
  local body = '{"batch_id":"' .. (tid or 0) .. "-" .. n .. '","taps":[' .. taps .. "]}"
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = (bad or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("bad") or 0) end
  io.write(string.format("LOVE_WRK requests=%d non200=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f " ..
                         "max_ms=%.2f duration_s=%.2f errors=%d\n",
                         summary.requests, bad, latency:percentile(50) / 1000,
                         latency:percentile(90) / 1000, latency:percentile(99) / 1000,
                         latency.max / 1000, summary.duration / 1e6,
                         summary.errors.connect + summary.errors.read + summary.errors.write +
                             summary.errors.timeout))
end
