-- wrk script: claim distinct open needs (bench/api_load.py runs it).
--   wrk ... -s bench/claim.lua <url> -- <targets file> <threads>
-- The targets file has one "need_id<TAB>bearer token" line per claim, spread over several
-- helper logins so that no helper's capacity turns the run into refusals. Thread t takes lines
-- t, t + threads, ... so that no two threads claim the same need; once a thread has used its
-- share it starts again, and those repeats answer 409 (already claimed), counted by status.
-- Prints one line "BENCH_JSON {...}" when done.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local stride = tonumber(args[2]) or 1
  targets = {}
  local line_no = 0
  for line in io.lines(args[1]) do
    if line_no % stride == (thread_index or 0) then
      local need_id, token = line:match("^([^\t]+)\t(.+)$")
      table.insert(targets, { need_id, token })
    end
    line_no = line_no + 1
  end
  counter = 0
  statuses = {}
end

function request()
  local target = targets[counter % #targets + 1]
  counter = counter + 1
  return wrk.format(
    "POST",
    "/api/v1/needs/" .. target[1] .. "/claim",
    { ["Authorization"] = "Bearer " .. target[2], ["Content-Length"] = "0" }
  )
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "socket_errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", ")))
end
