"""One address flooding placements, with and without the rate limits: `.venv/bin/python bench/flood.py`
(a script, not a test; issue 14's bar: honest viewers' sources lookups keep p99 < 1 s and every edge
announce succeeds).

A tracker under gunicorn (2 workers) with one live edge and one published video; for each run,
FLOODERS threads post placements from 127.0.0.2 as fast as they are answered, while VIEWERS threads
look up the video's sources from 127.0.0.3 and the edge announces every 0.2 s. Run once with the
default limits and once with every limit off (0). Prints what the flood got (and the bytes it holds
reserved), the lookups' p50/p99, and the announces that failed.
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.edges import Edge  # noqa: E402
from tests.servers import GENEROUS_LIMITS, start_tracker  # noqa: E402

FLOODERS, VIEWERS = 16, 4
FLOOD_SIZE = 10**9  # bytes each flooding placement asks for
OFF = {name: "0" for name in ("TRACKER_RATE_PLACEMENTS", "TRACKER_RATE_RESERVED", "TRACKER_RATE_DONATIONS",
                              "TRACKER_RATE_LOOKUPS")}
DEFAULTS = {name: "" for name in GENEROUS_LIMITS}  # an empty variable leaves the tracker's default


class Client:
    """One kept-alive HTTP connection from a chosen loopback address."""

    def __init__(self, port, source):
        self.port, self.source, self.connection = port, source, None

    def request(self, method, path, body=None):
        for attempt in (1, 2):  # once more on a connection the server closed
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                                             source_address=(self.source, 0))
            try:
                self.connection.request(method, path, body=json.dumps(body) if body is not None else None,
                                        headers={"Content-Type": "application/json"})
                answer = self.connection.getresponse()
                answer.read()
                return answer.status
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    return 0


def run(limits, seconds):
    with tempfile.TemporaryDirectory() as data_dir:
        # start_tracker's generous limits for tests are replaced by the run's.
        # The edge may be given a terabyte at once, so that what the flooder can take is the limits' doing.
        tracker = start_tracker(data_dir, WEB_CONCURRENCY="2", TRACKER_ANNOUNCE_INTERVAL="30",
                                TRACKER_NEW_NODE_CAPACITY=str(10**12), **{**DEFAULTS, **limits})
        edge = Edge(capacity=10**12, lasting=True)
        try:
            assert requests.post(tracker.url + "/api/v1/nodes/announce", json=edge.announce_doc(), timeout=10).ok
            upload = requests.post(tracker.url + "/api/v1/uploads", json={"title": "t", "size": 10}, timeout=10).json()
            video_id = requests.post(tracker.url + "/api/v1/videos", timeout=10, json=edge.registration_doc(
                upload["upload"], edge.make_package())).json()["video_id"]
            edge.videos = [video_id]
            return measure(tracker, edge, video_id, seconds)
        finally:
            tracker.stop()
            edge.close()


def measure(tracker, edge, video_id, seconds):
    stop = time.monotonic() + seconds
    flood, latencies, announces = {}, [], []
    lock = threading.Lock()

    def flooder():
        client = Client(tracker.port, "127.0.0.2")
        while time.monotonic() < stop:
            status = client.request("POST", "/api/v1/uploads", {"title": "flood", "size": FLOOD_SIZE})
            with lock:
                flood[status] = flood.get(status, 0) + 1

    def viewer():
        client = Client(tracker.port, "127.0.0.3")
        while time.monotonic() < stop:
            started = time.perf_counter()
            status = client.request("GET", f"/api/v1/videos/{video_id}/sources")
            latencies.append((time.perf_counter() - started, status))

    def announcer():
        while time.monotonic() < stop:
            try:
                ok = requests.post(tracker.url + "/api/v1/nodes/announce", json=edge.announce_doc(), timeout=30).ok
            except requests.RequestException:
                ok = False
            announces.append(ok)
            time.sleep(0.2)

    threads = [threading.Thread(target=f) for f in [flooder] * FLOODERS + [viewer] * VIEWERS + [announcer]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = sorted(t for t, _ in latencies)
    return {"flood": dict(sorted(flood.items())), "flooder holds GB": flood.get(200, 0) * FLOOD_SIZE / 1e9,
            "lookups": len(times),
            "lookups not 200": sum(1 for _, s in latencies if s != 200),
            "p50 ms": round(statistics.median(times) * 1000, 1), "p99 ms": round(times[int(len(times) * 0.99)] * 1000, 1),
            "announces": len(announces), "announces failed": announces.count(False)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    for name, limits in (("default limits", {}), ("limits off", OFF)):
        print(f"{name}: {run(limits, args.seconds)}", flush=True)


if __name__ == "__main__":
    main()
