"""Initial sync of a peer's catalog: how fast a tracker takes in another's change feed.

Tracker A's data dir is filled with N videos (bench/catalog.py's fill, no edges), which A signs into
its change feed in the background once started (the backfill of a catalog older than the feed,
tracker/gossip/backfill.py; timed until A's feed holds all N); tracker B then follows A's feed from
nothing (TRACKER_SYNC_BATCH changes a request), and the time until B's catalog holds all N gives
records/s. Both are real gunicorn trackers on loopback, each on its own SQLite file or (`--database
postgresql`) its own database of one private PostgreSQL server (tests/postgres.py). The machine's load
average is printed beside each figure: on a shared machine it is most of the story.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.catalog import fill_catalog  # noqa: E402
from tests.postgres import PostgresServer  # noqa: E402
from tests.servers import GENEROUS_LIMITS, Server  # noqa: E402

RENDITIONS = [{"name": "720p", "width": 1280, "height": 720, "bandwidth": 3_000_000},
              {"name": "360p", "width": 640, "height": 360, "bandwidth": 800_000}]
STALL = 120  # seconds without progress before the bench gives up

SETTINGS = {"TRACKER_ALLOW_PRIVATE": "1", **{name: str(value) for name, value in GENEROUS_LIMITS.items()}}


def load():
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def wait_signed(tracker, videos, timeout=7200):
    """Until the feed holds `videos` changes: its sequence numbers have no gaps, so the one after
    `videos - 1` is the last (a cursor past the newest starts the feed again, which is not it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = requests.get(f"{tracker.url}/api/v1/catalog/changes", params={"since": videos - 1, "limit": 1},
                              timeout=60).json()
        if answer["next"] == str(videos):
            return
        time.sleep(1)
    raise SystemExit(f"A's feed did not fill; see {tracker.data_dir}/tracker.log")


def held(tracker, count):
    """How many changes the follower holds, `count` of them seen before: each it took in is one of
    its own feed's, numbered without gaps (the catalog's `total` stops counting at 10,000)."""
    while True:
        answer = requests.get(f"{tracker.url}/api/v1/catalog/changes", params={"since": count, "limit": 500},
                              timeout=60).json()
        if not answer["changes"]:
            return count
        count = int(answer["next"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500, help="TRACKER_SYNC_BATCH of the follower")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    postgres = PostgresServer().start() if args.database == "postgresql" else None
    urls = {name: {"DATABASE_URL": postgres.new_database(f"tracker_{name}")} if postgres else {} for name in "ab"}
    with tempfile.TemporaryDirectory() as root:
        started = time.monotonic()
        # A followed record must have the renditions a real package has (gossip/records.py).
        fill_catalog(os.path.join(root, "a"), args.videos, 0, renditions=json.dumps(RENDITIONS),
                     database_url=urls["a"].get("DATABASE_URL"))
        print(f"filled A with {args.videos:,} videos in {time.monotonic() - started:.0f} s (load average {load()})",
              flush=True)
        a = Server("tracker", os.path.join(root, "a"), {**SETTINGS, **urls["a"]})
        b = Server("tracker", os.path.join(root, "b"), {**SETTINGS, **urls["b"], "TRACKER_PEERS": a.url,
                                                        "TRACKER_SYNC_INTERVAL": "0.2",
                                                        "TRACKER_SYNC_BATCH": str(args.batch)})
        try:
            started = time.monotonic()
            a.start()
            answered = time.monotonic() - started
            print(f"A answered {answered:.1f} s after its start", flush=True)
            wait_signed(a, args.videos)
            signed = time.monotonic() - started
            print(f"A signed {args.videos:,} videos into its feed in {signed:.1f} s: {args.videos / signed:,.0f} "
                  f"videos/s (load average {load()})", flush=True)
            b.start()
            started = progress = time.monotonic()
            count = 0
            while count < args.videos:
                if (now := held(b, count)) > count:
                    count, progress = now, time.monotonic()
                if time.monotonic() - progress > STALL:
                    raise SystemExit(f"B stalled at {count:,} records; see {b.data_dir}/tracker.log")
                time.sleep(0.2)
            took = progress - started
        finally:
            for server in (b, a):
                server.stop()
            if postgres:
                postgres.stop()
    print(f"B took in {count:,} changes in {took:.1f} s: {count / took:,.0f} records/s "
          f"(batches of {args.batch}, {args.database}; load average {load()})")


if __name__ == "__main__":
    main()
