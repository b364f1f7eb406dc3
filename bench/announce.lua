-- One BEP 3 announce per request: a random peer of a random swarm among `swarms` × `peers`.
-- The info-hashes are 20 bytes: the hash number, zero-padded (bench/tracker.py registers the same).
local swarms = tonumber(os.getenv("BENCH_SWARMS") or "1000")
local peers = tonumber(os.getenv("BENCH_PEERS") or "100")

local function hex20(n, prefix)
  local s = string.format("%040x", n)
  if prefix then s = prefix .. s:sub(#prefix + 1) end
  return (s:gsub("..", function(h) return "%" .. h end))
end

request = function()
  local swarm = math.random(1, swarms)
  local peer = math.random(1, peers)
  local path = "/announce?info_hash=" .. hex20(swarm) .. "&peer_id=" .. hex20(swarm * 1000 + peer, "2d")
    .. "&port=" .. (10000 + peer) .. "&uploaded=0&downloaded=0&left=" .. (peer % 10 == 0 and 0 or 1000)
    .. "&compact=1&numwant=50"
  return wrk.format("GET", path)
end
