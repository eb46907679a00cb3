-- wrk script: GET requests with the bearer token from the environment (BENCH_TOKEN).
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
  error("BENCH_TOKEN is not set")
end

wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. token
