"""What the BitTorrent endpoints need from the catalog, cached per worker for a few seconds.

For an info-hash: is it a video of the catalog, and how many live edges hold it (they count as
seeders). One query per hash every CACHE_TTL seconds instead of one per announce keeps the hot path
off the catalog database, which may be PostgreSQL on another host.
"""
import threading

from ..catalog.models import Video
from ..db import UNAVAILABLE, drop_connection, open_database
from ..nodes.models import Copy, Node

CACHE_TTL = 5.0  # seconds; a new video or edge shows in BitTorrent answers at most this late
CACHE_MAX = 100_000  # entries before the cache starts over


class Unavailable(Exception):
    """The catalog database cannot be read right now (its connection was lost twice in a row)."""


class VideoIndex:
    def __init__(self, app):
        self.app, self.cache, self.lock = app, {}, threading.Lock()
        self.db = open_database(app.config["DATABASE_URL"])
        p = self.db.param
        self.sql = (f"SELECT COUNT(n.id) FROM {Video._meta.table_name} v "
                    f"LEFT JOIN {Copy._meta.table_name} c ON c.video_id = v.id AND c.audited IS NOT NULL "
                    f"LEFT JOIN {Node._meta.table_name} n ON n.id = c.node_id AND n.last_seen >= {p} "
                    f"AND NOT n.stopped AND n.proven_url = n.url WHERE v.id = {p} GROUP BY v.id")

    def edge_count(self, info_hash, now):
        """Live edges holding the video whose id is `info_hash`, or None when no video has that id."""
        hit = self.cache.get(info_hash)
        if hit is not None and hit[0] > now:
            return hit[1]
        count = self.load(info_hash.hex(), now)
        with self.lock:
            if len(self.cache) >= CACHE_MAX:
                self.cache = {}
            self.cache[info_hash] = (now + CACHE_TTL, count)
        return count

    def load(self, video_id, now):
        # A database handle of its own, whose connection (one per thread) stays open: this runs
        # outside Flask's requests, and reconnecting costs more than the query. Plain SQL, since
        # building the query with peewee costs ten times more than running it.
        params = (now - self.app.config["TRACKER_NODE_TTL"], video_id)
        try:
            return self.query(params)
        except UNAVAILABLE:
            # The kept connection was ended by the server (a restart, a failover): it would fail
            # every query from now on. A read is safe to repeat on a fresh one, once.
            drop_connection(self.db)
        try:
            return self.query(params)
        except UNAVAILABLE as exc:
            drop_connection(self.db)
            raise Unavailable("the tracker's database is unavailable; retry later") from exc

    def query(self, params):
        self.db.connect(reuse_if_open=True)
        row = self.db.execute_sql(self.sql, params).fetchone()
        return None if row is None else row[0]
