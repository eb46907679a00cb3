-- wrk script: GET requests cycling over a list of paths, one a line, in BENCH_PATHS_FILE
-- (the benchmark writes 1,000 spread across the table: one path repeated would measure a
-- cache, not the cost of finding rows). The token comes from BENCH_TOKEN, so it never appears
-- on a command line. Requests are formatted once in init(); each thread starts at its own
-- offset so the threads do not ask for the same row at the same moment.
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
  error("BENCH_TOKEN is not set")
end
local file = os.getenv("BENCH_PATHS_FILE")
if file == nil or file == "" then
  error("BENCH_PATHS_FILE is not set")
end

local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

local reqs, n, i = {}, 0, 0
function init(args)
  local headers = { ["Accept"] = "application/json", ["Authorization"] = "Bearer " .. token }
  for line in io.lines(file) do
    if line ~= "" then
      n = n + 1
      reqs[n] = wrk.format("GET", line, headers)
    end
  end
  if n == 0 then
    error("no paths in " .. file)
  end
  i = ((tid or 0) * 7919) % n
end

function request()
  i = i % n + 1
  return reqs[i]
end
