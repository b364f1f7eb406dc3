"""Swarm state: which plain BitTorrent peers are in which swarm now (the soft state of BEP 3).

Why a small SQLite file and not a dict: gunicorn runs several worker processes, and a peer that
announced to one must appear in the peer lists and scrape counts another answers. A dict per worker
would split every swarm in as many pieces; SO_REUSEPORT or sticky routing cannot fix that, since a
client's announce and its scrape, or two peers of one swarm, land on any worker. So every worker
shares `swarm.db` in the data dir: WAL (readers never wait for the writer), kept apart from the
catalog so it never contends with placement's write lock, and it survives a restart. (With the
catalog on PostgreSQL the swarms go there instead, pgswarm.py, to be shared by every host.) Writes are batched: each worker buffers its announces and a
background thread writes them in one transaction every `flush` seconds, so the write lock is taken
a few times a second, not once per announce. Reads are cached the same way: a worker answers a
swarm from its own copy (a View: the peers as read, with the worker's own writes applied since) and
reads swarm.db again after REREAD seconds. So a worker sees its own announces at once and other
workers' at most `flush` + REREAD seconds late, nothing next to a 30-minute announce interval.
"""
import logging
import os
import random
import sqlite3
import threading
import time
import weakref

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS peer (info_hash BLOB, peer_id BLOB, address BLOB, seeder INTEGER, expires REAL,
    PRIMARY KEY (info_hash, peer_id)) WITHOUT ROWID;
DROP INDEX IF EXISTS peer_expires;
CREATE TABLE IF NOT EXISTS completed (info_hash BLOB PRIMARY KEY, count INTEGER) WITHOUT ROWID;
"""
READ_CAP = 2000  # rows read per swarm; a bigger swarm is counted in SQL and sampled from a random window
PURGE_EVERY = 60  # seconds between deletions of expired peers
REREAD = 1.0  # seconds a worker answers a swarm from its own View before reading swarm.db again


class View:
    """One worker's copy of a swarm: {peer_id: (address, seeder)} as read from swarm.db, with the
    worker's own writes applied since, and the counts. Peer lists are windows of a shuffled order
    (as opentracker does), reshuffled whenever the membership changes or the swarm is read again.
    Callers hold Swarms.lock."""

    __slots__ = ("read_at", "peers", "seeders", "leechers", "exact", "order")

    def __init__(self, read_at, peers, counts=None):
        self.read_at, self.peers, self.order, self.exact = read_at, peers, None, counts is None
        if counts is None:
            self.seeders = sum(seeder for _, seeder in peers.values())
            self.leechers = len(peers) - self.seeders
        else:  # a huge swarm: `peers` is a sample, the counts come from SQL
            self.seeders, self.leechers = counts

    def apply(self, peer_id, peer):
        """A write of this worker: `peer` is (address, seeder), or None when the peer left."""
        old = self.peers.pop(peer_id, None) if peer is None else self.peers.get(peer_id)
        if old == peer:
            return
        if peer is not None:
            self.peers[peer_id] = peer
        self.order = None
        if self.exact:
            for entry, sign in ((old, -1), (peer, 1)):
                if entry is not None:
                    self.seeders += sign * entry[1]
                    self.leechers += sign * (1 - entry[1])

    def pick(self, numwant, exclude):
        """[(peer_id, address)]: up to `numwant` peers from a random place, never `exclude` itself."""
        if self.order is None:
            self.order = [(pid, peer[0]) for pid, peer in self.peers.items()]
            random.shuffle(self.order)
        order = self.order
        if len(order) > numwant + 1:
            start = random.randrange(len(order))
            order = order[start:start + numwant + 1] + order[:max(0, start + numwant + 1 - len(order))]
        return [entry for entry in order if entry[0] != exclude][:numwant]


class Swarms:
    """The swarms in `swarm.db` beside this process (see the module's doc); pgswarm.py keeps them in
    PostgreSQL instead, shared by every process of the tracker on any host."""

    Error = sqlite3.Error  # what a failed read or write raises

    def __init__(self, path, flush=0.25, clock=time.time):
        self.path, self.flush_interval, self.clock = path, flush, clock
        self.lock, self.flush_lock = threading.Lock(), threading.Lock()
        self.pending, self.completed = {}, {}  # {info_hash: {peer_id: row or None (left)}}, {info_hash: n}
        self.views = {}  # {info_hash: View}
        self.flushing = {}  # the pending writes being committed: still overlaid until they are
        self.local = threading.local()
        self.owner = None  # the pid whose flusher thread runs; a forked child starts its own
        self.last_purge = 0.0
        self.create()

    def create(self):
        path = self.path
        with sqlite3.connect(path, timeout=10) as conn:
            conn.execute("PRAGMA journal_mode=wal")
            conn.executescript(SCHEMA)
        conn.close()

    def connection(self):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA synchronous=normal")
        return conn

    def put(self, info_hash, peer_id, row, completed=False):
        """Buffer one announce: `row` is (address, seeder, expires), or None for `stopped`; the address
        is the peer's compact form, IP then port, big-endian: 6 bytes (BEP 23) or 18 (BEP 7)."""
        if self.owner != os.getpid():
            self.start_flusher()
        with self.lock:
            self.pending.setdefault(info_hash, {})[peer_id] = row
            if completed:
                self.completed[info_hash] = self.completed.get(info_hash, 0) + 1
            view = self.views.get(info_hash)
            if view is not None:
                view.apply(peer_id, row and row[:2])

    def swarm(self, info_hash, now):
        """This worker's View of the swarm, read again from swarm.db when older than REREAD."""
        view = self.views.get(info_hash)
        if view is not None and now - view.read_at < REREAD:
            return view
        rows = self.read(info_hash, b"", now)
        counts = None
        if len(rows) == READ_CAP:  # huge: draw the peers from a window at a random place, count in SQL
            rows = self.read(info_hash, os.urandom(20), now) or rows
            counts = self.counts([info_hash], now)[info_hash][:2]
        peers = {pid: (address, seeder) for pid, address, seeder in rows}
        with self.lock:
            for writes in (self.flushing, self.pending):
                for pid, row in writes.get(info_hash, {}).items():
                    if row is None:
                        peers.pop(pid, None)
                    else:
                        peers[pid] = row[:2]
            view = self.views[info_hash] = View(now, peers, counts)
        return view

    def pick(self, view, numwant, exclude):
        with self.lock:
            return view.pick(numwant, exclude)

    def read(self, info_hash, start, now):
        return self.connection().execute(
            "SELECT peer_id, address, seeder FROM peer WHERE info_hash = ? AND peer_id >= ? AND expires > ? "
            "LIMIT ?", (info_hash, start, now, READ_CAP)).fetchall()

    def counts(self, info_hashes, now):
        """{info_hash: (complete, incomplete, downloaded)} for BEP 48 scrape, as last flushed."""
        conn, found = self.connection(), {}
        for h in info_hashes:
            seeders, total = conn.execute("SELECT COALESCE(SUM(seeder), 0), COUNT(*) FROM peer "
                                          "WHERE info_hash = ? AND expires > ?", (h, now)).fetchone()
            done = conn.execute("SELECT count FROM completed WHERE info_hash = ?", (h,)).fetchone()
            found[h] = (seeders, total - seeders, done[0] if done else 0)
        return found

    def start_flusher(self):
        with self.lock:
            if self.owner == os.getpid():
                return
            self.owner = os.getpid()
            self.pending, self.completed, self.flushing, self.local = {}, {}, {}, threading.local()
        threading.Thread(target=run_flusher, args=(weakref.ref(self),), name="swarm-flush", daemon=True).start()

    def flush(self, now=None):
        """Write the buffered announces in one transaction (and now and then drop expired peers)."""
        with self.flush_lock:
            self.write_pending(self.clock() if now is None else now)

    def write_pending(self, now):
        with self.lock:
            pending, completed, self.pending, self.completed = self.pending, self.completed, {}, {}
            self.flushing = pending
            self.views = {h: v for h, v in self.views.items() if now - v.read_at < REREAD}
        upserts = [(h, pid, *row) for h, peers in pending.items() for pid, row in peers.items() if row]
        removals = [(h, pid) for h, peers in pending.items() for pid, row in peers.items() if row is None]
        purge = now - self.last_purge > PURGE_EVERY
        if not (upserts or removals or completed or purge):
            return
        try:
            self.commit(upserts, removals, completed, purge, now)
        except self.Error:
            with self.lock:  # keep the batch for the next flush; newer announces win
                for h, peers in pending.items():
                    self.pending[h] = {**peers, **self.pending.get(h, {})}
                for h, n in completed.items():
                    self.completed[h] = self.completed.get(h, 0) + n
            raise
        finally:
            with self.lock:
                self.flushing = {}

    def commit(self, upserts, removals, completed, purge, now):
        conn = self.connection()
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT OR REPLACE INTO peer VALUES (?, ?, ?, ?, ?)", upserts)
            conn.executemany("DELETE FROM peer WHERE info_hash = ? AND peer_id = ?", removals)
            conn.executemany("INSERT INTO completed VALUES (?, ?) ON CONFLICT (info_hash) "
                             "DO UPDATE SET count = count + excluded.count", completed.items())
            if purge:
                conn.execute("DELETE FROM peer WHERE expires < ?", (now,))
                self.last_purge = now


def run_flusher(ref):
    """Flush every `flush` seconds for as long as the Swarms lives (a weak reference: apps come and go)."""
    while (swarms := ref()) is not None:
        interval = swarms.flush_interval
        try:
            swarms.flush()
        except swarms.Error:
            log.exception("swarm flush failed; retrying")
        del swarms
        time.sleep(interval)

