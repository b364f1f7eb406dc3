"""The sources of videos, best first: the hot path of every lookup, so one statement written once.

A live node holding an audited copy is listed (nodes/models.py, Node.is_live); the order is fewest
distinct reporters of failures in the last TRACKER_REPORT_WINDOW (nodes/reports.py: reports only move
an edge down, never out), then fewest failed audits, then most free space (capacity − used − pending
reservations), then id. A node reachable only over WebRTC (`reach`) is listed while its signalling socket
lives (nodes/sockets.py). Peewee's query builder took over three quarters of a lookup's time at a
million videos (bench/scale.py, README.md "At network scale"), so the SQL is a plain string and one
query answers what three did (the video's sources, free space, reports).
"""
import weakref
from collections import namedtuple

from peewee import PostgresqlDatabase

from ..db import chunks, database
from .sockets import SOCKET_TTL

# `signalling`: the node holds a live signalling socket, so a viewer can also connect to it through the
# tracker (a home edge must be reached so; a plain-http one must be from an https page).
Source = namedtuple("Source", "id url free reach signalling")

SQL = """SELECT * FROM (SELECT copy.video_id, node.id, node.url, node.reach, node.capacity - node.used - COALESCE(
  (SELECT SUM(upload.size) FROM upload WHERE upload.node = node.id AND upload.done = {p} AND upload.expires > {p}), 0)
  AS free,
  (SELECT COUNT(DISTINCT report.reporter) FROM report WHERE report.node = node.id AND report.created > {p}) AS failures,
  (SELECT COUNT(*) FROM signalsocket WHERE signalsocket.node = node.id AND signalsocket.seen >= {p}) AS sockets,
  node.audit_failures
FROM copy JOIN node ON node.id = copy.node_id
WHERE copy.video_id IN ({ids}) AND copy.audited IS NOT NULL
  AND node.last_seen >= {p} AND node.stopped = {p} AND node.proven_url = node.url) AS listed
WHERE listed.reach IS NULL OR listed.reach <> 'webrtc' OR listed.sockets > 0
ORDER BY listed.failures, listed.audit_failures, listed.free DESC, listed.id"""


# PostgreSQL planned that statement anew each time, which took longer than running it (a lookup 0.6 ms,
# 0.25 ms planned once, at a million videos): a connection prepares it once (the ids as one array).
PREPARED_NAME = "slipstream_sources"
PREPARED_SQL = SQL.replace("{p}", "%s").replace("IN ({ids})", "= ANY(%s)") % tuple(
    f"${n}" for n in range(1, SQL.count("{p}") + 2))
prepared = weakref.WeakSet()  # the PostgreSQL connections that hold it


def live_sources(video_ids, now, node_ttl, report_window):
    """{video id: [Source, best first]} for the videos among `video_ids` that have any."""
    found = {}
    for rows in statements(list(video_ids), now, node_ttl, report_window):
        for video_id, node_id, url, reach, free, _, sockets, _ in rows:
            found.setdefault(video_id, []).append(
                Source(node_id, url, free, reach or url.partition(":")[0], bool(sockets)))
    return found


def statements(video_ids, now, node_ttl, report_window):
    """The rows of SQL for `video_ids`, statement by statement."""
    before, after = [False, now, now - report_window, now - SOCKET_TTL], [now - node_ttl, False]
    if isinstance(database.obj, PostgresqlDatabase) and not database.in_transaction():
        # Outside a transaction only: one rolled back would take the statement with it.
        connection = database.connection()
        if connection not in prepared:
            # Its plan made once: left to choose, PostgreSQL plans each execution anew (an array of ids
            # of unknown length looks dearer to it than it is). Only this statement is ever prepared.
            database.execute_sql("SET plan_cache_mode = force_generic_plan")
            database.execute_sql(f"PREPARE {PREPARED_NAME} AS {PREPARED_SQL}")
            prepared.add(connection)
        yield database.execute_sql(f"EXECUTE {PREPARED_NAME}(%s, %s, %s, %s, %s, %s, %s)",
                                   [*before, video_ids, *after])
        return
    p = database.param
    for chunk in chunks(video_ids):
        yield database.execute_sql(SQL.format(p=p, ids=", ".join([p] * len(chunk))), [*before, *chunk, *after])
