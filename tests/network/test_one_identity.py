"""A tracker is an identity, not a process (README.md, "Deploy"): two tracker processes on one
PostgreSQL database with one TRACKER_KEY, as two web dynos of one Heroku app, are one tracker to the
edges and players. Each process has its own port and data dir, as dynos on different hosts would."""
import base64
import json

import nacl.signing
import pytest
import requests

from tests.actions import announced, place, send, wait_for, wait_published
from tests.servers import start_edge, start_tracker
from tests.tracker.bittorrent import announce_query, get, scrape_query

STAGED = 120  # seconds a transcode may take on a busy 2-core machine
# Swarm writes are buffered TRACKER_SWARM_FLUSH seconds and each process rereads a swarm every second
# (tracker/bittorrent/swarm.py); the BitTorrent index caches a video's edges 5 s (videoindex.py).
SWARM_LAG = 10


def new_seed():
    return bytes(nacl.signing.SigningKey.generate()).hex()


@pytest.fixture
def one_tracker(tmp_path, postgres_url):
    """Processes A and B of one tracker (one database, one key) and an edge that only knows A."""
    key = new_seed()
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(start_tracker(tmp_path / name, DATABASE_URL=postgres_url, TRACKER_KEY=key))
        servers.append(start_edge(tmp_path / "edge", servers[0].url))
        wait_for(lambda: announced(servers[2]), message="the edge announced to A")
        yield servers
    finally:
        for server in reversed(servers):
            server.stop()


def signer(placement):
    """The tracker key a placement's ticket says signed it (the edge verifies that it did)."""
    ticket = placement["ticket"]
    return json.loads(base64.urlsafe_b64decode(ticket + "=" * (-len(ticket) % 4)))["payload"]["tracker"]


def sources(tracker, video_id):
    answer = requests.get(f"{tracker.url}/api/v1/videos/{video_id}/sources", timeout=10)
    assert answer.status_code == 200, answer.text
    return [s["url"] for s in answer.json()["sources"]]


def test_two_processes_with_one_key_and_one_database_accept_each_others_tickets(one_tracker, small_clip):
    a, b, edge = one_tracker
    # Placed through B (whose ticket the edge checks against the key it pinned from A), registered
    # by the edge through A, the only tracker it knows.
    placement = place(b.url, small_clip, "Placed through B", creator="dyno")
    assert placement["upload_url"].startswith(edge.url)
    assert signer(placement) == requests.get(f"{edge.url}/api/v1/status", timeout=10).json()["tracker"]
    done = wait_published(send(placement, small_clip)["status_url"], timeout=STAGED)
    video_id = done["video_id"]

    # Both processes answer alike from the one database, at once: no per-process copy to wait for.
    assert sources(a, video_id) == sources(b, video_id) == [edge.url]
    for tracker in (a, b):
        video = requests.get(f"{tracker.url}/api/v1/videos/{video_id}", timeout=10).json()
        assert (video["title"], video["creator"]) == ("Placed through B", "dyno")
        found = requests.get(f"{tracker.url}/api/v1/videos", params={"q": "Placed"}, timeout=10).json()
        assert [v["id"] for v in found["videos"]] == [video_id]

    # The BitTorrent swarm is in the database too: a peer announced to A is counted and listed by B.
    info_hash = bytes.fromhex(video_id)
    get(a.url, "/announce", announce_query(info_hash, b"-LT2000-peer-of-A-01", 6881, left=100))
    wait_for(lambda: get(b.url, "/scrape", scrape_query(info_hash))[b"files"][info_hash][b"incomplete"] == 1,
             timeout=SWARM_LAG, message="B counting A's peer")
    listed = get(b.url, "/announce", announce_query(info_hash, b"-LT2000-peer-of-B-01", 6882, compact=0))
    assert [p[b"peer id"] for p in listed[b"peers"]] == [b"-LT2000-peer-of-A-01"]
    assert listed[b"complete"] == 1  # the edge, a seeder


def test_a_process_with_another_key_is_another_tracker_to_the_edge(tmp_path, postgres_url, small_clip):
    """The other side of the same coin: the database alone does not make one tracker; a process
    with another key signs tickets the edge (pinned to the first key) refuses."""
    servers = [start_tracker(tmp_path / "a", DATABASE_URL=postgres_url, TRACKER_KEY=new_seed())]
    try:
        servers.append(start_tracker(tmp_path / "c", DATABASE_URL=postgres_url, TRACKER_KEY=new_seed()))
        servers.append(start_edge(tmp_path / "edge", servers[0].url))
        wait_for(lambda: announced(servers[2]), message="the edge announced to A")
        placement = place(servers[1].url, small_clip, "Placed through another tracker")
        with open(small_clip, "rb") as f:
            answer = requests.post(placement["upload_url"], data={"ticket": placement["ticket"]},
                                   files={"file": ("clip.mp4", f, "video/mp4")}, timeout=60)
        assert answer.status_code == 401, answer.text
    finally:
        for server in reversed(servers):
            server.stop()
