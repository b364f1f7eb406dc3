"""Swarms kept in the tracker's PostgreSQL database, for a tracker of several processes on several
hosts (README.md, "Deploy"): a peer that announced to one dyno is in the peer lists and scrape
counts of every other. The buffering and caching are Swarms' own (swarm.py): a process sees another
one's announces at most TRACKER_SWARM_FLUSH + REREAD seconds late, its scrapes after one flush.
"""
import psycopg2

from ..db import PG_SWARM_LOCK
from . import swarm
from .swarm import Swarms
from .videoindex import Unavailable

LOST = (psycopg2.OperationalError, psycopg2.InterfaceError)  # the connection, not the query, failed
SCHEMA = """
SELECT pg_advisory_xact_lock(%s);
CREATE TABLE IF NOT EXISTS bt_peer (info_hash BYTEA, peer_id BYTEA, address BYTEA, seeder INTEGER,
    expires DOUBLE PRECISION, PRIMARY KEY (info_hash, peer_id));
CREATE INDEX IF NOT EXISTS bt_peer_expires ON bt_peer (expires);
CREATE TABLE IF NOT EXISTS bt_completed (info_hash BYTEA PRIMARY KEY, count BIGINT);
"""


class PostgresSwarms(Swarms):
    Error = psycopg2.Error

    def create(self):
        # Under a lock: two processes starting at once would race to CREATE TABLE IF NOT EXISTS.
        conn = psycopg2.connect(self.path)
        try:
            with conn, conn.cursor() as cursor:
                cursor.execute(SCHEMA, (PG_SWARM_LOCK,))
        finally:
            conn.close()

    def connection(self):
        conn = getattr(self.local, "conn", None)
        if conn is None or conn.closed:  # `closed` once the server or the network ended it
            conn = self.local.conn = psycopg2.connect(self.path)
            conn.autocommit = True
        return conn

    def query(self, sql, params):
        """The rows of one read. A kept connection the server ended (a restart, a failover) fails
        every query after; a read is safe to repeat on a fresh one, once (as videoindex.py does)."""
        for attempt in (1, 2):
            try:
                with self.connection().cursor() as cursor:
                    cursor.execute(sql, params)
                    return cursor.fetchall()
            except LOST as exc:
                self.forget()
                if attempt == 2:
                    raise Unavailable("the tracker's database is unavailable; retry later") from exc

    def forget(self):
        conn, self.local.conn = getattr(self.local, "conn", None), None
        if conn is not None:
            conn.close()

    def read(self, info_hash, start, now):
        rows = self.query("SELECT peer_id, address, seeder FROM bt_peer WHERE info_hash = %s AND peer_id >= %s "
                          "AND expires > %s ORDER BY peer_id LIMIT %s", (info_hash, start, now, swarm.READ_CAP))
        return [(bytes(peer_id), bytes(address), seeder) for peer_id, address, seeder in rows]

    def counts(self, info_hashes, now):
        found = {}
        for h in info_hashes:
            (seeders, total), = self.query("SELECT COALESCE(SUM(seeder), 0), COUNT(*) FROM bt_peer "
                                           "WHERE info_hash = %s AND expires > %s", (h, now))
            done = self.query("SELECT count FROM bt_completed WHERE info_hash = %s", (h,))
            found[h] = (int(seeders), total - int(seeders), done[0][0] if done else 0)
        return found

    def commit(self, upserts, removals, completed, purge, now):
        conn = None
        try:
            conn = self.connection()  # anew if the last flush lost it
            conn.autocommit = False
            # Rows in key order: two processes flushing the same peers then lock them in one order.
            with conn, conn.cursor() as cursor:
                cursor.executemany("INSERT INTO bt_peer VALUES (%s, %s, %s, %s, %s) ON CONFLICT (info_hash, peer_id) "
                                   "DO UPDATE SET address = excluded.address, seeder = excluded.seeder, "
                                   "expires = excluded.expires", sorted(upserts))
                cursor.executemany("DELETE FROM bt_peer WHERE info_hash = %s AND peer_id = %s", sorted(removals))
                cursor.executemany("INSERT INTO bt_completed VALUES (%s, %s) ON CONFLICT (info_hash) "
                                   "DO UPDATE SET count = bt_completed.count + excluded.count",
                                   sorted(completed.items()))
                if purge:
                    cursor.execute("DELETE FROM bt_peer WHERE expires < %s", (now,))
                    self.last_purge = now
        except LOST:
            self.forget()  # swarm.py keeps the batch for the next flush, which connects afresh
            raise
        finally:
            if conn is not None and not conn.closed:
                conn.autocommit = True
