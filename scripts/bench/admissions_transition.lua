-- wrk script: move seeded applicants between inquiry and waitlisted.
--
-- POST /v1/admissions/applicants/{id}/transitions. The ids (applicants in inquiry) come from
-- BENCH_IDS_FILE; thread k of n (BENCH_WRK_THREADS) takes lines k, k+n, ...; the first pass
-- moves each to waitlisted (forward: inquiry has no required checklist item), the next back to
-- inquiry, and so on, so every request is a legal move. The token comes from BENCH_TOKEN.
local token = os.getenv("BENCH_TOKEN")
local ids_file = os.getenv("BENCH_IDS_FILE")
local nthreads = tonumber(os.getenv("BENCH_WRK_THREADS") or "")
if token == nil or ids_file == nil or nthreads == nil then
  error("BENCH_TOKEN, BENCH_IDS_FILE and BENCH_WRK_THREADS must be set")
end

local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

local ids = {}
local pos = 0
local pass = 0
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. token,
}
local bodies = { [0] = '{"to":"waitlisted"}', [1] = '{"to":"inquiry"}' }

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
    error("no applicant ids for thread " .. tostring(tid))
  end
end

function request()
  pos = pos + 1
  if pos > #ids then
    pos = 1
    pass = 1 - pass
  end
  return wrk.format("POST", "/v1/admissions/applicants/" .. ids[pos] .. "/transitions", headers,
    bodies[pass])
end
