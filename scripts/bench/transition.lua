-- wrk script: move seeded open concerns to "acknowledged", each concern once.
--
-- POST /v1/concerns/{id}/transitions {"to":"acknowledged"}. The ids of open concerns come from
-- the file named by BENCH_IDS_FILE (one a line, written just before the run); thread k of n
-- (n = BENCH_WRK_THREADS) takes lines k, k+n, k+2n, ... so no id is moved twice. A thread that
-- runs out starts over: those requests are illegal moves (409) and show as non-2xx responses,
-- which the benchmark reports. The token comes from BENCH_TOKEN.
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
  error("BENCH_TOKEN is not set")
end
local ids_file = os.getenv("BENCH_IDS_FILE")
if ids_file == nil or ids_file == "" then
  error("BENCH_IDS_FILE is not set")
end
local nthreads = tonumber(os.getenv("BENCH_WRK_THREADS") or "")
if nthreads == nil or nthreads < 1 then
  error("BENCH_WRK_THREADS is not set")
end

local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

local ids = {}
local pos = 0
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. token,
}
local body = '{"to":"acknowledged"}'

function init(args)
  local line_no = 0
  for line in io.lines(ids_file) do
    if line ~= "" then
      if line_no % nthreads == tid then
        ids[#ids + 1] = line
      end
      line_no = line_no + 1
    end
  end
  if #ids == 0 then
    error("no concern ids for thread " .. tostring(tid) .. " in " .. ids_file)
  end
end

function request()
  pos = pos + 1
  if pos > #ids then
    pos = 1
  end
  return wrk.format("POST", "/v1/concerns/" .. ids[pos] .. "/transitions", headers, body)
end
