"""The tracker's database: a peewee proxy bound to the database `DATABASE_URL` names, and the base
every model shares. Tables are created in one place, schema.py.

SQLite by default (WAL so readers never wait for the writer, a busy timeout so writers queue
instead of failing, foreign keys on); PostgreSQL with a `postgresql://` URL. A connection is opened
for each request and closed after it, as `playhouse.flask_utils` does.
"""
import contextlib
import fcntl
import json
import os
from urllib.parse import urlsplit

from peewee import (
    DatabaseProxy,
    InterfaceError,
    Model,
    OperationalError,
    PostgresqlDatabase,
    SqliteDatabase,
    TextField,
)
from playhouse import db_url

database = DatabaseProxy()
IN_CHUNK = 500  # ids per IN (...) list, far below SQLite's limit on bound variables

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # WAL makes NORMAL durable against application crashes; only power loss can cost the last commit.
    "synchronous": "normal",
    # Read the file through a shared mapping instead of read(2) into each connection's own small cache:
    # at a million videos a sources lookup touches pages all over the copy index (166 → 121 µs a
    # statement, README.md "At network scale"). Address space, not memory: the pages are the OS's.
    "mmap_size": 2 ** 30,
}
BUSY_TIMEOUT = 10  # seconds a writer waits for the lock before "database is locked"
# Any constant works: it only has to be the same in every process that places uploads.
# PostgreSQL advisory lock keys, all here so that no two kinds of work share one by mistake.
PG_WRITE_LOCK = 0x5_1105_7EA3
PG_SCHEMA_LOCK = 0x5_1105_7EA4
PG_AUDIT_LOCK = 0x5_1105_7EA5  # nodes/audits.py: one auditor round at a time
PG_GOSSIP_LOCK = 0x5_1105_7EA6  # gossip/follow.py: one follower round at a time
PG_SWARM_LOCK = 0x5_1105_7EA7  # bittorrent/pgswarm.py: its tables created once
PG_BACKFILL_LOCK = 0x5_1105_7EA8  # gossip/backfill.py: one backfill
POOL_SIZE = 64  # connections per worker at most: gunicorn's threads, and the BitTorrent index's
POOL_STALE = 300  # seconds an idle pooled connection is kept
# What a lost connection raises: the server ended it (restart, failover, pg_terminate_backend), the
# network dropped it, or the server cannot be reached at all. SQLite's "database is locked" too.
UNAVAILABLE = (OperationalError, InterfaceError)


def open_database(url):
    # A pool (playhouse.pool) keeps connections open between requests: opening one, with SQLite's
    # pragmas or PostgreSQL's handshake, costs more than the queries of a request.
    scheme = urlsplit(url).scheme
    pooled = dict(max_connections=POOL_SIZE, stale_timeout=POOL_STALE)
    if "+" not in scheme:
        url = url.replace(scheme, scheme + "+pool", 1)
    if scheme.startswith("sqlite"):
        # A pooled connection moves between threads, one thread at a time.
        return db_url.connect(url, pragmas=SQLITE_PRAGMAS, timeout=BUSY_TIMEOUT, check_same_thread=False,
                              **pooled)
    return db_url.connect(url, **pooled)


class JSONField(TextField):
    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = database


def chunks(items, size=IN_CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def init_app(app):
    """Open the app's database and connect around each request."""
    db = open_database(app.config["DATABASE_URL"])
    app.extensions["tracker.db"] = db
    database.initialize(db)

    app.before_request(lambda: connect(app))
    app.teardown_request(lambda exc: close())


def connect(app):
    """Open (take from the pool) this thread's connection to `app`'s database."""
    # Several apps can share a process (tests); bind the proxy to this request's app.
    if database.obj is not app.extensions["tracker.db"]:
        database.initialize(app.extensions["tracker.db"])
    database.connect(reuse_if_open=True)


def close():
    """Hand this thread's connection back to the pool."""
    if not database.is_closed():
        database.close()


def drop_connection(db):
    """Close this thread's connection without handing it back to the pool. The pool tests a
    connection only when it is taken out again (peewee 4's `SELECT 1`); dropping one that failed
    saves the next request that round trip, and one that failed for another reason is not trusted."""
    if not db.is_closed():
        db.manual_close()


@contextlib.contextmanager
def startup_lock(data_dir):
    """An exclusive lock shared by every process of this tracker on this machine."""
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, "startup.lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def only_process(key):
    """Yield whether this process alone holds `key` among all processes on the database, for work
    that must not run twice at once (audits). PostgreSQL: a session advisory lock, freed at the end
    or when the connection dies with its process, on whatever host. SQLite lives on one machine,
    where the caller's flock in the data dir already excludes the others: always True."""
    if not isinstance(database.obj, PostgresqlDatabase):
        yield True
        return
    held = database.execute_sql("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
    try:
        yield held
    finally:
        if held:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (key,))


@contextlib.contextmanager
def schema_lock(data_dir):
    """Held while tables are created: by the processes on this machine (a flock in the data dir) and,
    on PostgreSQL, by those on others too (two dynos starting at once would race to CREATE TABLE)."""
    with startup_lock(data_dir), database.connection_context():
        if isinstance(database.obj, PostgresqlDatabase):
            database.execute_sql("SELECT pg_advisory_lock(%s)", (PG_SCHEMA_LOCK,))
        try:
            yield
        finally:
            if isinstance(database.obj, PostgresqlDatabase):
                database.execute_sql("SELECT pg_advisory_unlock(%s)", (PG_SCHEMA_LOCK,))


@contextlib.contextmanager
def write_transaction():
    """A transaction for read-then-write work (placement, replay checks) that others cannot interleave.

    SQLite: BEGIN IMMEDIATE takes the write lock before the first read, so two placements cannot
    both see the same free space. PostgreSQL: a transaction-scoped advisory lock does the same.
    """
    if isinstance(database.obj, SqliteDatabase):
        with database.atomic("IMMEDIATE") as txn:
            yield txn
        return
    with database.atomic() as txn:
        if isinstance(database.obj, PostgresqlDatabase):
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (PG_WRITE_LOCK,))
        yield txn
