-- wrk script: sends prepared requests read from a file, one per line: "path<TAB>cookie<TAB>body"
-- (an empty body means GET). Used for the bare route (one line, sent again and again) and for
-- the survey submit (one line per officer who has the survey open: each POST is a new answer).
--
--   wrk -t1 -c8 -d10s -s benchmarks/requests.lua http://127.0.0.1:PORT -- FILE THREADS STATUS
--
-- STATUS is the status every reply must have (302 after a stored answer, 200 for the bare route).
-- A thread that runs out of lines starts again at its first line and counts it in "wrapped", so
-- the caller can tell that the figure would include repeated answers. `done` prints one JSON line.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  expected = tonumber(args[3])
  local id = wrk.thread:get("id")
  prepared = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id then
      local path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      if cookie ~= "" then headers["Cookie"] = cookie end
      if body == "" then
        prepared[#prepared + 1] = wrk.format("GET", path, headers)
      else
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        prepared[#prepared + 1] = wrk.format("POST", path, headers, body)
      end
    end
    i = i + 1
  end
  sent, wrapped, unexpected = 0, 0, 0
end

function request()
  sent = sent + 1
  if sent > #prepared then
    sent = 1
    wrapped = wrapped + 1
    wrk.thread:set("wrapped", wrapped)
  end
  return prepared[sent]
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    wrk.thread:set("unexpected", unexpected)
  end
end

function done(summary, latency, requests)
  local wrapped, unexpected = 0, 0
  for _, thread in ipairs(threads) do
    wrapped = wrapped + (thread:get("wrapped") or 0)
    unexpected = unexpected + (thread:get("unexpected") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_s": %.6f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"errors": %d, "timeouts": %d, "wrapped": %d, "unexpected": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status, e.timeout,
    wrapped, unexpected))
end
