-- wrk script: POST a new family on every request.
-- The token comes from the environment (BENCH_TOKEN), so it never appears on a command line.
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
  error("BENCH_TOKEN is not set")
end

wrk.method = "POST"
wrk.body = '{"display_name":"Bench family","primary_language":"en"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
