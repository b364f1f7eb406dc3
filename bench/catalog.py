"""Fill a tracker's data dir with a bench catalog: videos 1…n (ids: the number as 40 hex digits)
and edges each holding two copies per video on average, all live, their URLs proven and their
copies audited (as after the checks of README.md's trust model). Edge URLs are loopback addresses
nobody listens on, and the bench tracker runs without its auditor: it sends no request to them."""
import os
import time

from tracker import create_app
from tracker.db import database
from tracker.catalog.models import Video
from tracker.nodes.models import Copy, Node

BATCH = 500


def fill_catalog(data_dir, videos, nodes, copies=2):
    os.makedirs(data_dir, exist_ok=True)
    create_app({"SLIPSTREAM_DATA_DIR": data_dir, "TRACKER_ALLOW_PRIVATE": True, "TRACKER_BACKGROUND": False})
    now = time.time()
    with database.connection_context(), database.atomic():
        insert(Video, [{"id": f"{n:040x}", "title": f"bench video {n}", "creator": "bench", "duration": 60.0,
                        "renditions": [], "size": 10**8, "created": now - n} for n in range(1, videos + 1)])
        urls = {n: f"http://127.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}:8001" for n in range(1, nodes + 1)}
        insert(Node, [{"id": f"{n:064x}", "url": urls[n], "proven_url": urls[n], "proven_at": now,
                       "declared": 10**12, "capacity": 10**12, "used": 10**10, "last_seen": now,
                       "last_timestamp": now} for n in range(1, nodes + 1)])
        if nodes:
            insert(Copy, [{"node": f"{(v * 7 + c * 4999) % nodes + 1:064x}", "video": f"{v:040x}",
                           "audited": now, "next_audit": now + 10**9}
                          for v in range(1, videos + 1) for c in range(copies)])


def insert(model, rows):
    for start in range(0, len(rows), BATCH):
        model.insert_many(rows[start:start + BATCH]).on_conflict_ignore().execute()
