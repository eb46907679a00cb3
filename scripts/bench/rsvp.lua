-- wrk script: PUT /v1/events/{id}/rsvps/{family_id} cycling over BENCH_PATHS_FILE, the answer
-- alternating between yes and maybe so that every request writes (an unchanged answer writes
-- nothing). Token from BENCH_TOKEN (a member of staff recording answers).
local token = os.getenv("BENCH_TOKEN")
local file = os.getenv("BENCH_PATHS_FILE")
if token == nil or token == "" or file == nil or file == "" then
  error("BENCH_TOKEN and BENCH_PATHS_FILE must be set")
end

local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

local reqs, n, i = {}, 0, 0
function init(args)
  local headers = {
    ["Accept"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
  local bodies = { '{"response": "yes", "adults": 2}', '{"response": "maybe"}' }
  for line in io.lines(file) do
    if line ~= "" then
      for _, b in ipairs(bodies) do
        n = n + 1
        reqs[n] = wrk.format("PUT", line, headers, b)
      end
    end
  end
  i = (tid or 0) * 97
end

function request()
  i = i % n + 1
  return reqs[i]
end
