"""Fill a tracker's data dir with a bench catalog: videos 1…n (ids: the number as 40 hex digits,
titles "bench video <n>") and edges each holding two copies per video on average, all live, their URLs
proven and their copies audited (as after the checks of README.md's trust model). Edge URLs are
loopback addresses nobody listens on, and the bench tracker runs without its auditor: it sends no
request to them. The rows are made by the database itself (INSERT … SELECT over a series of numbers),
so a million videos take a minute, not a quarter of an hour of Python building rows."""
import os
import time

from peewee import PostgresqlDatabase

from tracker import create_app
from tracker.db import database

SQLITE = {"series": "WITH RECURSIVE series(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM series WHERE n < {count}) ",
          "from": "series", "hex": "printf('%0{width}x', {n})"}
POSTGRES = {"series": "", "from": "generate_series(1, {count}) AS series(n)", "hex": "lpad(to_hex({n}), {width}, '0')"}


def fill_catalog(data_dir, videos, nodes, copies=2, database_url=None, renditions="[]"):
    """`renditions`: every video's, as JSON (a peer's change must carry real ones: bench/gossip.py)."""
    os.makedirs(data_dir, exist_ok=True)
    create_app({"SLIPSTREAM_DATA_DIR": data_dir, "TRACKER_ALLOW_PRIVATE": True, "TRACKER_BACKGROUND": False,
                **({"DATABASE_URL": database_url} if database_url else {})})
    sql = POSTGRES if isinstance(database.obj, PostgresqlDatabase) else SQLITE
    now = time.time()

    def insert(table, columns, count, values):
        hexed = {"video": sql["hex"].format(width=40, n="n"), "node": sql["hex"].format(width=64, n="n")}
        statement = (sql["series"].format(count=count) + f"INSERT INTO {table} ({columns}) SELECT "
                     + values.format(now=now, **hexed) + " FROM " + sql["from"].format(count=count))
        # psycopg reads every % as a placeholder's start, even with no parameters.
        database.execute_sql(statement.replace("%", "%%") if sql is POSTGRES else statement)

    with database.connection_context(), database.atomic():
        insert("video", "id, title, description, creator, duration, renditions, size, created, visibility", videos,
               "{video}, 'bench video ' || n, '', 'bench', 60.0, '"
               + renditions.replace("{", "{{").replace("}", "}}") + "', 100000000, {now} - n, 'public'")
        url = "'http://127.' || (n / 65536 % 256) || '.' || (n / 256 % 256) || '.' || (n % 256) || ':8001'"
        if nodes:
            insert("node", "id, url, proven_url, proven_at, declared, capacity, used, audit_failures, last_seen, "
                   "last_timestamp, last_registration, stopped", nodes,
                   f"{{node}}, {url}, {url}, {{now}}, 1000000000000, 1000000000000, 10000000000, 0, {{now}}, "
                   "{now}, 0, false")
            for c in range(copies):
                node = sql["hex"].format(width=64, n=f"((n * 7 + {c * 4999}) % {nodes} + 1)")
                insert("copy", "node_id, video_id, audited, next_audit", videos,
                       f"{node}, {{video}}, {{now}}, {{now}} + 1000000000")
    if sql is POSTGRES:
        # What autovacuum does within minutes of such a fill: without it the planner takes the fresh
        # tables for empty and scans the two million copies for each lookup (24 lookups/s, timeouts).
        with database.connection_context():
            database.execute_sql("ANALYZE")
