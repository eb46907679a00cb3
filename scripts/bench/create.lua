-- wrk script: creating POSTs, each with its own Idempotency-Key, as a careful client sends them
-- (so the cost of remembering the answer is measured too).
--
-- env BENCH_TOKEN (required): the bearer token (never on a command line).
-- env BENCH_POST_PATH (required): e.g. /v1/communications.
-- env BENCH_BODY_TEMPLATE (required): the JSON body; {{id}} is replaced by an id from
--     BENCH_IDS_FILE, cycling (the benchmark writes 1,000 families spread across the table).
-- env BENCH_IDS_FILE (optional): one id a line.
-- env BENCH_KEY_PREFIX (optional): makes the keys unique to this wrk run (a warm-up and the run
--     after it must not share keys, or the run would measure replays). Without it, no
--     Idempotency-Key is sent.
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
  error("BENCH_TOKEN is not set")
end
local path = os.getenv("BENCH_POST_PATH")
if path == nil or path == "" then
  error("BENCH_POST_PATH is not set")
end
local template = os.getenv("BENCH_BODY_TEMPLATE")
if template == nil or template == "" then
  error("BENCH_BODY_TEMPLATE is not set")
end
local ids_file = os.getenv("BENCH_IDS_FILE")
local key_prefix = os.getenv("BENCH_KEY_PREFIX")

local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

local bodies, n, i, sent = {}, 0, 0, 0
local headers = {
  ["Content-Type"] = "application/json",
  ["Accept"] = "application/json",
  ["Authorization"] = "Bearer " .. token,
}
function init(args)
  if ids_file ~= nil and ids_file ~= "" then
    for line in io.lines(ids_file) do
      if line ~= "" then
        n = n + 1
        -- a function as the replacement: the id is taken literally, never as a pattern
        bodies[n] = template:gsub("{{id}}", function() return line end)
      end
    end
    if n == 0 then
      error("no ids in " .. ids_file)
    end
  else
    n = 1
    bodies[1] = template
  end
  i = ((tid or 0) * 7919) % n
end

function request()
  i = i % n + 1
  if key_prefix ~= nil and key_prefix ~= "" then
    sent = sent + 1
    headers["Idempotency-Key"] = key_prefix .. "-" .. tostring(tid) .. "-" .. tostring(sent)
  end
  return wrk.format("POST", path, headers, bodies[i])
end
