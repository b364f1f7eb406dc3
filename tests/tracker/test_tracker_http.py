"""The real tracker under gunicorn on loopback, with two workers sharing one SQLite file."""
import concurrent.futures
import sqlite3

import pytest
import requests

from protocol.signing import load_or_create_key, node_id
from protocol.tickets import decode_ticket
from tests.edges import Edge
from tests.servers import start_tracker

SIZE = 1000


@pytest.fixture(scope="module")
def tracker(tmp_path_factory):
    # Two workers, so that parallel requests really race on the database; a long TTL so that edges
    # announced at the start of a test stay live through it; declared capacities believed in full
    # (what capacity a node earns is tests/test_trust.py's subject, not this file's).
    server = start_tracker(tmp_path_factory.mktemp("tracker"), WEB_CONCURRENCY="2", TRACKER_NODE_TTL="120",
                           TRACKER_NEW_NODE_CAPACITY=str(10**13))
    yield server
    server.stop()


def announce(tracker, edge, **changes):
    return requests.post(f"{tracker.url}/api/v1/nodes/announce", json=edge.announce_doc(**changes), timeout=10)


def place(tracker, size=SIZE, title="clip"):
    return requests.post(f"{tracker.url}/api/v1/uploads", json={"title": title, "size": size}, timeout=30)


def test_signed_announce_over_http(tracker):
    edge = Edge()
    answer = announce(tracker, edge)
    assert answer.status_code == 200, answer.text
    assert answer.json()["interval"] == 1 and answer.json()["tasks"] == []
    replay = requests.post(f"{tracker.url}/api/v1/nodes/announce", json=edge.announce_doc(timestamp=edge.last),
                           timeout=10)
    assert replay.status_code == 400 and replay.json()["error"] == "replayed"


def test_workers_share_one_tracker_key(tracker):
    key = load_or_create_key(f"{tracker.data_dir}/tracker.key")
    answers = {announce(tracker, Edge()).json()["tracker"] for _ in range(12)}
    assert answers == {node_id(key)}


def test_tables_are_created_in_the_master_before_workers_fork(tracker):
    """gunicorn.conf.py's on_starting builds the schema once; no worker races to create it."""
    log = tracker.logs()
    ready, booted = log.find("tracker database ready"), log.find("Booting worker")
    assert 0 <= ready < booted, log[:2000]
    with sqlite3.connect(f"{tracker.data_dir}/tracker.db") as db:
        tables = {name for name, in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"video", "node", "copy", "video_fts"} <= tables


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_parallel_placements_never_overcommit(tmp_path, backend, request):
    database = {"DATABASE_URL": request.getfixturevalue("postgres_url")} if backend == "postgresql" else {}
    tracker = start_tracker(tmp_path, WEB_CONCURRENCY="2", TRACKER_NODE_TTL="120", **database)
    try:
        assert announce(tracker, Edge(capacity=10 * SIZE)).status_code == 200
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            statuses = sorted(pool.map(lambda _: place(tracker).status_code, range(40)))
    finally:
        tracker.stop()
    assert statuses == [200] * 10 + [507] * 30
    assert "database is locked" not in tracker.logs()


def test_upload_path_over_http(tracker):
    edge = Edge(capacity=10**12)
    tracker_id = announce(tracker, edge).json()["tracker"]
    placement = place(tracker, size=10**11, title="Over the wire").json()  # only this edge has that room
    assert placement["node"] == edge.id
    assert decode_ticket(placement["ticket"], tracker_id)["upload"] == placement["upload"]
    video_id = edge.make_package()
    document = edge.registration_doc(placement["upload"], video_id)
    registered = requests.post(f"{tracker.url}/api/v1/videos", json=document, timeout=10)
    assert registered.status_code == 201, registered.text
    found = requests.get(f"{tracker.url}/api/v1/videos", params={"q": "over the WIRE"}, timeout=10).json()
    assert [v["id"] for v in found["videos"]] == [video_id]
    sources = requests.get(f"{tracker.url}/api/v1/videos/{video_id}/sources", timeout=10).json()
    assert sources == {"video_id": video_id, "found_by": tracker.url,
                       "sources": [{"node": edge.id, "url": edge.url, "reach": "http"}], "ice_servers": []}
    metrics = requests.get(f"{tracker.url}/metrics", timeout=10).text
    assert "tracker_videos 1.0" in metrics
