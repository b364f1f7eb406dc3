"""Initial sync of a peer's catalog: how fast a tracker takes in another's change feed.

Tracker A's data dir is filled with N videos (bench/catalog.py's fill, no edges), which A signs into
its change feed as it starts (the backfill of a catalog older than the feed, timed too); tracker B
then follows A's feed from nothing (TRACKER_SYNC_BATCH changes a request), and the time until B's
catalog holds all N gives records/s. Both are real gunicorn trackers on loopback, on SQLite.
"""
import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.catalog import fill_catalog  # noqa: E402
from tests.servers import GENEROUS_LIMITS, Server  # noqa: E402

RENDITIONS = [{"name": "720p", "width": 1280, "height": 720, "bandwidth": 3_000_000},
              {"name": "360p", "width": 640, "height": 360, "bandwidth": 800_000}]
STALL = 120  # seconds without progress before the bench gives up

SETTINGS = {"TRACKER_ALLOW_PRIVATE": "1", **{name: str(value) for name, value in GENEROUS_LIMITS.items()}}


def held(tracker):
    return requests.get(f"{tracker.url}/api/v1/videos", timeout=60).json()["total"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500, help="TRACKER_SYNC_BATCH of the follower")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        fill_catalog(os.path.join(root, "a"), args.videos, 0)
        # A followed record must have the renditions a real package has (gossip/records.py). Set
        # straight in the file: opening the tracker's app would sign the catalog before it is right.
        with sqlite3.connect(os.path.join(root, "a", "tracker.db")) as db:
            db.execute("UPDATE video SET renditions = ?", (json.dumps(RENDITIONS),))
        a = Server("tracker", os.path.join(root, "a"), SETTINGS)
        b = Server("tracker", os.path.join(root, "b"), {**SETTINGS, "TRACKER_PEERS": a.url,
                                                        "TRACKER_SYNC_INTERVAL": "0.2",
                                                        "TRACKER_SYNC_BATCH": str(args.batch)})
        try:
            started = time.monotonic()
            a.start(timeout=3600)
            signed = time.monotonic() - started
            b.start()
            started = progress = time.monotonic()
            count = 0
            while count < args.videos:
                if (now := held(b)) > count:
                    count, progress = now, time.monotonic()
                if time.monotonic() - progress > STALL:
                    raise SystemExit(f"B stalled at {count:,} records; see {b.data_dir}/tracker.log")
                time.sleep(0.2)
            took = progress - started
        finally:
            for server in (b, a):
                server.stop()
    print(f"A signed {args.videos:,} videos into its feed at start in {signed:.1f} s")
    print(f"B took in {count:,} changes in {took:.1f} s: {count / took:,.0f} records/s "
          f"(batches of {args.batch}, SQLite)")


if __name__ == "__main__":
    main()
