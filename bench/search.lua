-- GET /api/v1/videos?q=<n> for a random n among BENCH_VIDEOS: bench/catalog.py titles video n "bench video n",
-- so each query is a prefix search matching a handful of titles (n, n0…n9, …) among the whole catalog.
local videos = tonumber(os.getenv("BENCH_VIDEOS") or "100000")

request = function()
  return wrk.format("GET", string.format("/api/v1/videos?q=%d", math.random(1, videos)))
end
