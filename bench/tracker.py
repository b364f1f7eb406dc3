"""Tracker speed side by side: `.venv/bin/python bench/tracker.py` (a script, not a test).

wrk runs the same announce script (bench/announce.lua: 1,000 swarms of 100 peers) against
opentracker (C; Debian's build serves only whitelisted hashes, so we write the whitelist), webtorrent's
bittorrent-tracker (Node; installed with --ignore-scripts into a temporary folder, since its optional
WebRTC module cannot build here) and ours under gunicorn; then sources lookups on a catalog of
100,000 videos held by 10,000 edges. Prints requests/s, p99 and our ratios (README.md, targets), and
each tracker's CPU time per announce (its processes' user + system time over the run, from /proc):
on a machine shared with other work the rates swing with the load, the CPU cost of an answer much less.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.catalog import fill_catalog  # noqa: E402
from tests.servers import Server, free_port  # noqa: E402

SWARMS, PEERS = 1000, 100
NODE_SERVER = """import Server from 'bittorrent-tracker/server'
const server = new Server({udp: false, ws: false, http: true, stats: false, trustProxy: false})
server.on('error', e => { console.error(e); process.exit(1) })
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'))
"""


def cpu_seconds(pid):
    """User + system CPU seconds of process `pid` (all its threads) and of its children (gunicorn's workers)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        children = [int(child) for child in f.read().split()]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") + sum(map(cpu_seconds, children))


def wrk(url, script, seconds, connections, env=None, pid=None):
    """(requests/s, p99 ms, CPU µs per request of process `pid` and its children, or None) of one wrk run."""
    before = pid and cpu_seconds(pid)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if errors:
        print(f"    wrk reported: {errors.group(0)}")
    cpu = pid and (cpu_seconds(pid) - before) * 1e6 / int(re.search(r"(\d+) requests in", out).group(1))
    return rate, float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit], cpu


def wait_listening(url, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def run_announces(trackers, args):
    """{name: (announces/s, CPU µs per announce)}: the medians of `args.rounds` runs each, the trackers
    taking turns; `trackers` is {name: (url, pid)}."""
    script = os.path.join(ROOT, "bench", "announce.lua")
    runs = {name: [] for name in trackers}
    for url, _ in trackers.values():
        wrk(url, script, args.warmup, args.connections)  # fills the swarms
    for _ in range(args.rounds):
        for name, (url, pid) in trackers.items():
            runs[name].append(wrk(url, script, args.seconds, args.connections, pid=pid))
    medians = {}
    for name, found in runs.items():
        rate, p99, cpu = (statistics.median(run[i] for run in found) for i in range(3))
        print(f"  {name:<22} {rate:>9,.0f} announces/s   p99 {p99:7.1f} ms   {cpu:6.1f} CPU-µs/announce   "
              f"(rounds: {', '.join(f'{r:,.0f}' for r, _, _ in found)})", flush=True)
        medians[name] = rate, cpu
    return medians


def opentracker(work):
    os.makedirs(f"{work}/ot", exist_ok=True)
    with open(f"{work}/ot/whitelist", "w") as f:
        f.writelines(f"{n:040x}\n" for n in range(1, SWARMS + 1))
    port = free_port()
    proc = subprocess.Popen(["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P", str(port),
                             "-d", f"{work}/ot", "-w", "whitelist", "-u", "nobody"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_listening(url + "/stats", proc)
    time.sleep(1)  # the whitelist loads in a thread of its own
    return proc, url


def bittorrent_tracker(work):
    folder = f"{work}/node"
    os.makedirs(folder)
    subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--silent",
                    "--prefix", folder, "bittorrent-tracker"], check=True)
    with open(f"{folder}/server.mjs", "w") as f:
        f.write(NODE_SERVER)
    port = free_port()
    proc = subprocess.Popen(["node", "server.mjs", str(port)], cwd=folder, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_listening(url + "/stats", proc)
    return proc, url


def ours(work, name, videos, nodes, workers):
    data = f"{work}/{name}"
    fill_catalog(data, videos, nodes)
    return Server("tracker", data, {"TRACKER_ALLOW_PRIVATE": "1", "TRACKER_NODE_TTL": "86400",
                                    "TRACKER_BACKGROUND": "0", "GUNICORN_ACCESSLOG": ""},
                  workers=workers).start(timeout=120)


def stop(proc):
    if isinstance(proc, Server):
        proc.stop()
    else:
        proc.terminate()
        proc.wait(timeout=15)


def install_missing_tools():
    """wrk and opentracker come from Debian's packages; install them when missing (as `make test` does)."""
    missing = [tool for tool in ("wrk", "opentracker") if shutil.which(tool) is None]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured wrk run")
    parser.add_argument("--warmup", type=int, default=5, help="length of the wrk run before each")
    parser.add_argument("--rounds", type=int, default=3, help="runs per tracker; the median is printed")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="our gunicorn workers")
    args = parser.parse_args()
    install_missing_tools()
    work = tempfile.mkdtemp(prefix="slipstream-bench-")
    print(f"announces: wrk -t2 -c{args.connections} -d{args.seconds}s, {SWARMS} swarms × {PEERS} peers, "
          f"{os.cpu_count()} CPUs; slipstream: gunicorn ({args.workers} workers, gunicorn.conf.py's worker class);\n"
          f"each figure the median of {args.rounds} rounds, the trackers taking turns")
    procs = []
    try:
        ot, ot_url = opentracker(work)
        procs.append(ot)
        bt, bt_url = bittorrent_tracker(work)
        procs.append(bt)
        server = ours(work, "announce", SWARMS, 0, args.workers)
        procs.append(server)
        found = run_announces({"opentracker": (ot_url, ot.pid), "bittorrent-tracker": (bt_url, bt.pid),
                               "slipstream": (server.url, server.proc.pid)}, args)
        for proc in procs:
            stop(proc)
        procs = []
        (rate, cpu) = found["slipstream"]
        for anchor in ("opentracker", "bittorrent-tracker"):
            print(f"  slipstream / {anchor}: {rate / found[anchor][0]:.2f} in announces/s, "
                  f"{found[anchor][1] / cpu:.2f} in announces per CPU-second")
        print("sources lookups: 100,000 videos, 10,000 edges, 2 copies each")
        server = ours(work, "sources", 100_000, 10_000, args.workers)
        try:
            script = os.path.join(ROOT, "bench", "sources.lua")
            wrk(server.url, script, args.warmup, args.connections)
            rate, p99, _ = wrk(server.url, script, args.seconds, args.connections)
            print(f"  {'slipstream sources':<22} {rate:>9,.0f} lookups/s     p99 {p99:7.1f} ms")
        finally:
            server.stop()
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
