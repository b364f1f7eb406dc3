-- GET /api/v1/videos/<id>/sources for a random video among BENCH_VIDEOS (ids: the number, 40 hex digits).
local videos = tonumber(os.getenv("BENCH_VIDEOS") or "100000")

request = function()
  return wrk.format("GET", string.format("/api/v1/videos/%040x/sources", math.random(1, videos)))
end
