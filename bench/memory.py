"""Where a worker's memory goes under attack: `python bench/memory.py --rounds 3`.

A tracker and an edge (one worker each, so every attacking connection lands on the worker measured)
take rounds of bench/soak.py's attack: `--slow` connections against each, half trickling heads and
half trickling bodies, each reconnecting when cut, and one address flooding placements. Before the
first round, near the end of each round and `--rest` seconds after it, each worker is probed from
inside (tests/runtime/gunicorn_probe.py, without tracemalloc) and one line printed: RSS, pymalloc's
arenas and the bytes in use in them, glibc's heap in use and free, the Python objects alive, and the
connections, tasks and live timers held. A leak shows as Python bytes or objects that grow round
after round; a high-water mark as RSS and arenas that stay up after the first round but do not grow.
`--env NAME=VALUE` runs the servers with an extra environment variable (MALLOC_ARENA_MAX=2, ...).
"""
import argparse
import glob
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.soak import INTERVAL, run_attack
from tests.actions import announced, wait_for
from tests.servers import Server, start_edge

PROBE = os.path.join(ROOT, "tests", "runtime", "gunicorn_probe.py")
MIB = 2**20


def probe(server):
    (pid,) = server.workers()
    pattern = os.path.join(server.data_dir, f"probe-{pid}-*.json")
    before = set(glob.glob(pattern))
    os.kill(pid, signal.SIGUSR2)  # the worker's; the master would take it as an order to re-exec
    (path,) = wait_for(lambda: set(glob.glob(pattern)) - before, timeout=60, message="the worker's probe")
    with open(path) as f:
        return json.load(f)


def warm_every_thread(network):
    """Bring up every Flask thread of both workers before the first probe, with parallel requests: the
    threads are made on demand and kept, and their stacks and malloc arenas are not the attack's."""
    def burst():
        with requests.Session() as session:
            for _ in range(10):
                for server in network.values():
                    session.get(f"{server.url}/healthz", timeout=30)
    threads = [threading.Thread(target=burst) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def show(label, network):
    for name, server in network.items():
        held = probe(server)
        mib = {key: held.get(key, 0) / MIB for key in ("rss", "pymalloc_in_use", "malloc_in_use", "malloc_free")}
        print(f"{label:16} {name:7} RSS {mib['rss']:6.1f} MiB | pymalloc {held.get('pymalloc_arenas', 0):3} arenas, "
              f"{mib['pymalloc_in_use']:5.1f} MiB in use | malloc {mib['malloc_in_use']:5.1f} in use, "
              f"{mib['malloc_free']:5.1f} free | {held['python_objects']:6} objects | {held['open']:4} connections, "
              f"{held['tasks']:4} tasks, {held['timers']:4} timers, {held['threads']:2} threads", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60, help="each round's attack")
    parser.add_argument("--rest", type=float, default=40, help="seconds after a round before the probe; the "
                                                              "workers give freed memory back every 30 s")
    parser.add_argument("--slow", type=int, default=500, help="slow connections against each server a round")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    env = {"PROBE_TRACE": "0", **dict(item.split("=", 1) for item in args.env)}
    tmp = tempfile.mkdtemp(prefix="slipstream-memory-")
    network = {}
    try:
        network["tracker"] = Server("tracker", os.path.join(tmp, "tracker"), config=PROBE, env={
            "TRACKER_ALLOW_PRIVATE": "1", "TRACKER_ANNOUNCE_INTERVAL": str(INTERVAL), **env}).start()
        network["edge"] = start_edge(os.path.join(tmp, "edge"), network["tracker"].url, config=PROBE, **env)
        wait_for(lambda: announced(network["edge"]), message="the edge announced")
        warm_every_thread(network)
        targets = {name: server.port for name, server in network.items()}
        print(f"{args.slow} slow connections against each worker, {args.seconds:.0f} s a round; {args.env or ''}")
        show("idle", network)
        for number in range(1, args.rounds + 1):
            results = multiprocessing.Manager().dict()
            attacker = multiprocessing.Process(target=run_attack, args=(targets, args.slow, args.seconds, results))
            attacker.start()
            time.sleep(args.seconds * 0.9)
            show(f"round {number} attacked", network)
            attacker.join()
            time.sleep(args.rest)
            show(f"round {number} after", network)
    finally:
        for server in reversed(list(network.values())):
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
