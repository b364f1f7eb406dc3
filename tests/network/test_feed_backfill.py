"""A tracker started over a catalog older than its change feed (an upgrade, a restored database)
answers at once, and its feed fills in the background (tracker/gossip/backfill.py): a real gunicorn
tracker on a real SQLite file, whose write lock the test holds while the tracker starts."""
import contextlib
import os
import sqlite3

import requests

from protocol.signing import verify
from tests.actions import wait_for
from tests.servers import start_tracker
from tests.tracker.actions import make_app
from tracker.catalog.models import Video
from tracker.db import chunks, database

VIDEOS = 1_200  # three of the backfill's batches
RENDITIONS = [{"name": "360p", "width": 640, "height": 360, "bandwidth": 800_000}]


def old_catalog(data_dir, count):
    """A tracker's database holding `count` videos and no change of any, as before the feed existed;
    video n is the n-th oldest."""
    app = make_app(data_dir)
    rows = [{"id": f"{n:040x}", "title": f"Old lesson {n}", "creator": "teacher", "duration": 60.0,
             "renditions": RENDITIONS, "size": 1000, "created": 1.7e9 + n} for n in range(1, count + 1)]
    with app.app_context(), database.connection_context(), database.atomic():
        for chunk in chunks(rows, 100):
            Video.insert_many(chunk).execute()
    app.extensions["tracker.db"].close_all()


@contextlib.contextmanager
def write_lock(path):
    """SQLite's write lock on the tracker's database, held by the test: the tracker may read (WAL),
    but writes nothing until it is let go."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


def feed(tracker, since=""):
    answer = requests.get(f"{tracker.url}/api/v1/catalog/changes", params={"since": since, "limit": 500}, timeout=10)
    assert answer.status_code == 200
    return answer.json()


def whole_feed(tracker):
    changes, cursor = [], ""
    while (page := feed(tracker, cursor))["changes"]:
        changes, cursor = changes + page["changes"], page["next"]
    return changes


def test_a_tracker_over_a_catalog_with_no_feed_serves_at_once_and_its_feed_fills(tmp_path):
    old_catalog(tmp_path, VIDEOS)
    with write_lock(os.path.join(tmp_path, "tracker.db")):
        # Signing at start-up would need the lock: the tracker would not start before it is let go.
        tracker = start_tracker(tmp_path)
        try:
            listed = requests.get(f"{tracker.url}/api/v1/videos", params={"q": "lesson"}, timeout=10).json()
            assert listed["total"] == VIDEOS and listed["videos"][0]["title"] == f"Old lesson {VIDEOS}"
            assert feed(tracker)["changes"] == []
            me = listed["videos"][0]["origin"]
        except BaseException:
            tracker.stop()
            raise
    try:
        wait_for(lambda: len(whole_feed(tracker)) == VIDEOS, timeout=60, message="the whole catalog in the feed")
        changes = whole_feed(tracker)
        records = [verify({"payload": c["record"], "signature": c["signature"]}, me) for c in changes]
        assert [r["id"] for r in records] == [f"{n:040x}" for n in range(1, VIDEOS + 1)]  # oldest first
        assert [r["seq"] for r in records] == list(range(1, VIDEOS + 1))
        assert {r["origin_url"] for r in records} == {tracker.url}
    finally:
        tracker.stop()
