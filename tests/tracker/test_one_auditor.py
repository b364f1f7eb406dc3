"""Audits run in one process at a time among all the processes of a tracker on one PostgreSQL, on
any host (README.md, "Deploy"): another process holding the auditor's lock is a session of its own."""
import psycopg2

from tests.edges import Edge
from tests.tracker.actions import audit_all, make_app, publish, source_nodes
from tracker.db import PG_AUDIT_LOCK
from tracker.nodes.audits import run_pending


def test_while_another_process_audits_no_copy_is_audited_here(tmp_path, postgres_url):
    app = make_app(tmp_path, DATABASE_URL=postgres_url)
    client = app.test_client()
    first, second = Edge(), Edge()
    first.announce(client)
    video = publish(client, first)
    second.copy_from(first, video)
    second.announce(client)  # its copy is due for its first audit
    other = psycopg2.connect(postgres_url)  # another tracker process, as far as PostgreSQL can tell
    try:
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", (PG_AUDIT_LOCK,))
        assert run_pending(app) == 0
        assert source_nodes(client, video) == [first.id]
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", (PG_AUDIT_LOCK,))
        audit_all(app)
        assert sorted(source_nodes(client, video)) == sorted([first.id, second.id])
    finally:
        other.close()
