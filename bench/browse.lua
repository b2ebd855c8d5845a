-- wrk script: browse the needs market as one login (bench/api_load.py runs it).
--   wrk ... -s bench/browse.lua <url> -- <bearer token> <pages> <threads>
-- Request i asks for page (i mod pages) + 1 of one category, cycling through "all categories"
-- and each category in turn, so that the run covers the first pages people actually look at
-- rather than hitting one cached answer. Prints one line "BENCH_JSON {...}" when done.

local categories = {
  "", "medical_aid", "assistive_device", "tuition", "skills_training", "job",
  "housing_repair", "water", "farm_inputs", "micro_credit", "care",
}
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  token = args[1]
  pages = tonumber(args[2]) or 10
  -- Threads start at different points of the cycle, so they do not ask for the same page.
  counter = (thread_index or 0) * 7
  statuses = {}
end

function request()
  local page = counter % pages + 1
  local category = categories[math.floor(counter / pages) % #categories + 1]
  counter = counter + 1
  local path = "/api/v1/market/needs?page=" .. page
  if category ~= "" then
    path = path .. "&category=" .. category
  end
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

-- Shared with claim.lua by copy: wrk loads one script per run, without require paths.
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
