-- wrk script: POST the JSON body in BENCH_BODY on every request.
-- The token comes from the environment (BENCH_TOKEN), so it never appears on a command line.
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
  error("BENCH_TOKEN is not set")
end
local body = os.getenv("BENCH_BODY")
if body == nil or body == "" then
  error("BENCH_BODY is not set")
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
