"""The tracker at network scale: `nice -n 0 .venv/bin/python bench/scale.py` (a script, not a test).

Fills one tracker's database with 1,000,000 videos held by 10,000 edges (bench/catalog.py), on SQLite
and on PostgreSQL, and measures with wrk: `/sources` lookups per second and p99 (bench/sources.lua),
and search p99 (bench/search.lua: a number word, matching a handful of titles). The anchor, in the
same run: the sources lookups of today's bench/tracker.py (100,000 videos, 10,000 edges, SQLite) on
the code of the commit `--anchor` (exported with git archive), so the ratio compares code, not
machines.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.tracker import install_missing_tools, wrk  # noqa: E402
from tests.postgres import PostgresServer  # noqa: E402
from tests.servers import Server  # noqa: E402

# Main as issue 16's item 6 began: the "today" the goal is measured against.
ANCHOR = "d89e1e9"
ANCHOR_VIDEOS, NODES = 100_000, 10_000
ENV = {"TRACKER_ALLOW_PRIVATE": "1", "TRACKER_NODE_TTL": "86400", "TRACKER_BACKGROUND": "0", "GUNICORN_ACCESSLOG": ""}


def export(commit, folder):
    """The source tree of `commit`, to run beside this one."""
    os.makedirs(folder)
    archive = subprocess.run(["git", "-C", ROOT, "archive", commit], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    # This tree's fill (fast, and the same rows), on the schema of the anchor's own tracker.
    shutil.copy(os.path.join(ROOT, "bench", "catalog.py"), os.path.join(folder, "bench", "catalog.py"))
    return folder


def filled(data, videos, nodes, root=ROOT, database_url=None):
    """Fill a catalog with the code of `root` (its own schema and indexes), timing it."""
    start = time.monotonic()
    fill = ("import sys; from bench.catalog import fill_catalog; "
            "fill_catalog(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), database_url=sys.argv[4] or None)")
    subprocess.run([sys.executable, "-c", fill, data, str(videos), str(nodes), database_url or ""], cwd=root, check=True)
    print(f"  filled {videos:,} videos / {nodes:,} edges in {time.monotonic() - start:.0f} s", flush=True)


def measure(server, videos, args, scripts=("sources", "search")):
    """{script: (requests/s, p99 ms)} of wrk runs against one server, after a warm-up each; then the p99
    of each with only `--light` connections, where the queue of 64 connections on 2 cores, which is
    most of a saturated run's p99, is gone and the latency is the request's own."""
    found = {}
    env = {"BENCH_VIDEOS": str(videos)}
    for name in scripts:
        script = os.path.join(ROOT, "bench", f"{name}.lua")
        wrk(server.url, script, args.warmup, args.connections, env)
        found[name] = wrk(server.url, script, args.seconds, args.connections, env)[:2]
        rate, p99 = found[name]
        print(f"  {name:<8} {rate:>9,.0f} requests/s   p99 {p99:7.1f} ms   (load average {load()})", flush=True)
    for name in scripts:
        rate, p99, _ = wrk(server.url, os.path.join(ROOT, "bench", f"{name}.lua"), args.seconds, args.light, env)
        print(f"  {name:<8} {rate:>9,.0f} requests/s   p99 {p99:7.1f} ms   with {args.light} connections "
              f"(load average {load()})", flush=True)
    return found


def load():
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def run(work, name, videos, args, root=ROOT, database_url=None, scripts=("sources", "search")):
    data = f"{work}/{name}"
    filled(data, videos, NODES, root, database_url)
    env = {**ENV, **({"DATABASE_URL": database_url} if database_url else {})}
    server = Server("tracker", data, env, workers=args.workers, root=root).start(timeout=300)
    try:
        return measure(server, videos, args, scripts)
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured wrk run")
    parser.add_argument("--warmup", type=int, default=5, help="length of the wrk run before each")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--light", type=int, default=2, help="connections of the latency runs")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers")
    parser.add_argument("--anchor", default=ANCHOR, help="the commit whose sources lookups are the anchor")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    install_missing_tools()
    work = tempfile.mkdtemp(prefix="slipstream-scale-")
    print(f"wrk -t2 -c{args.connections} -d{args.seconds}s, {os.cpu_count()} CPUs, {args.workers} gunicorn workers; "
          f"load average {load()}")
    try:
        print(f"anchor: {args.anchor}, {ANCHOR_VIDEOS:,} videos, {NODES:,} edges, SQLite")
        anchor = run(work, "anchor", ANCHOR_VIDEOS, args, export(args.anchor, f"{work}/tree"), scripts=("sources",))
        for db in args.databases.split(","):
            print(f"this tree: {args.videos:,} videos, {NODES:,} edges, {db}")
            postgres = PostgresServer().start() if db == "postgresql" else None
            try:
                ours = run(work, db, args.videos, args, database_url=postgres and postgres.url)
            finally:
                if postgres:
                    postgres.stop()
            print(f"  sources / anchor: {ours['sources'][0] / anchor['sources'][0]:.2f}× "
                  f"(goal ≥ 3×, p99 < 20 ms); search p99 goal < 50 ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
