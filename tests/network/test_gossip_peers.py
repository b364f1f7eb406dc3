"""A real tracker following a peer's change feed (README.md, "One network") when the peer is a
stranger: a tiny Flask app on loopback that serves whatever feed the test gives it, honest or
tampered, and notes every request. It is a hostile peer, not a stand-in for our own code."""
import threading

import nacl.signing
import pytest
import requests
from flask import Flask, request
from werkzeug.serving import make_server

from protocol.signing import node_id, sign
from tests.actions import wait_for
from tests.servers import free_port, start_tracker
from tests.tracker.actions import new_video_id

SYNC = {"TRACKER_SYNC_INTERVAL": "0.5", "TRACKER_SYNC_BATCH": "2"}


class FakePeer:
    """A peer tracker serving `changes` as a feed whose cursor is the index of the next change."""

    def __init__(self, changes, port=0):
        self.changes, self.asked = list(changes), []
        app = Flask(__name__)
        app.add_url_rule("/api/v1/catalog/changes", view_func=self.feed)
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def feed(self):
        since, limit = int(request.args.get("since") or 0), int(request.args["limit"])
        self.asked.append(request.args.get("since", ""))
        page = self.changes[since:since + limit]
        return {"changes": page, "next": str(since + len(page))}

    def caught_up(self):
        """True once the follower has asked past the last change."""
        return str(len(self.changes)) in self.asked

    def close(self):
        self.server.shutdown()


@pytest.fixture
def peer():
    peers = []

    def make(changes, port=0):
        peers.append(FakePeer(changes, port))
        return peers[-1]
    yield make
    for fake in peers:
        fake.close()


ORIGIN = nacl.signing.SigningKey.generate()


def change(title, key=ORIGIN, **fields):
    record = {"id": new_video_id(), "title": title, "description": "", "creator": "far", "channel": None,
              "duration": 4.0, "renditions": [{"name": "360p", "width": 640, "height": 360, "bandwidth": 800000}],
              "poster": None, "size": 1000, "visibility": "public", "created": 1.7e9, "origin": node_id(key),
              "origin_url": "http://127.0.0.1:9", "seq": 1, **fields}
    document = sign(record, key)
    return {"record": document["payload"], "signature": document["signature"]}


def search(tracker, q):
    answer = requests.get(f"{tracker.url}/api/v1/videos", params={"q": q}, timeout=10).json()
    return sorted(v["title"] for v in answer["videos"])


def metric(tracker, line):
    text = requests.get(f"{tracker.url}/metrics", timeout=10).text
    return next(float(row.split()[-1]) for row in text.splitlines() if row.startswith(line))


def test_a_change_altered_in_transit_is_refused_and_honest_ones_kept(tmp_path, peer):
    honest = change("Honest gossip")
    tampered = change("Tampered gossip")
    tampered["record"]["title"] = "Tampered gossip, retitled"  # after the origin signed it
    other = nacl.signing.SigningKey.generate()
    forged = change("Forged gossip", origin=node_id(other))  # signed by ORIGIN, claiming another origin
    fake = peer([tampered, honest, forged, {"record": {"id": "x"}, "signature": "00"}, change("Last gossip")])
    tracker = start_tracker(tmp_path / "t", TRACKER_PEERS=fake.url, **SYNC)
    try:
        wait_for(fake.caught_up, timeout=20, message="the tracker read the whole feed")
        wait_for(lambda: search(tracker, "gossip") == ["Honest gossip", "Last gossip"], timeout=10,
                 message="the honest changes stored")
        assert metric(tracker, 'tracker_gossip_changes_total{result="refused"}') == 3
        assert metric(tracker, 'tracker_gossip_changes_total{result="accepted"}') == 2
        # What was refused is not relayed either: this tracker's own feed holds only the honest two.
        relayed = requests.get(f"{tracker.url}/api/v1/catalog/changes", timeout=10).json()["changes"]
        assert sorted(c["record"]["title"] for c in relayed) == ["Honest gossip", "Last gossip"]
        assert honest in relayed
    finally:
        tracker.stop()


def test_the_cursor_survives_a_restart(tmp_path, peer):
    fake = peer([change(f"Episode {n}") for n in range(5)])
    tracker = start_tracker(tmp_path / "t", TRACKER_PEERS=fake.url, **SYNC)
    try:
        wait_for(fake.caught_up, timeout=20, message="the tracker read the whole feed")
        assert fake.asked[:3] == ["", "2", "4"]  # batches of TRACKER_SYNC_BATCH, each from the last next
    finally:
        tracker.stop()
    fake.asked.clear()
    fake.changes.append(change("Episode 5"))
    tracker = start_tracker(tmp_path / "t", TRACKER_PEERS=fake.url, **SYNC)
    try:
        wait_for(fake.caught_up, timeout=20, message="the restarted tracker read the new change")
        assert fake.asked[0] == "5"  # where it stopped: nothing read again
        assert len(search(tracker, "episode")) == 6
    finally:
        tracker.stop()


def test_a_dead_peer_is_asked_again_until_it_answers(tmp_path, peer):
    port = free_port()
    tracker = start_tracker(tmp_path / "t", TRACKER_PEERS=f"http://127.0.0.1:{port}", **SYNC)
    try:
        wait_for(lambda: metric(tracker, 'tracker_gossip_pulls_total{result="failed"}') >= 2, timeout=20,
                 message="failed pulls counted")
        assert search(tracker, "gossip") == []
        fake = peer([change("Late gossip")], port=port)  # the peer comes back
        wait_for(lambda: search(tracker, "gossip") == ["Late gossip"], timeout=30,
                 message="the peer followed once back")
        assert fake.asked[0] == ""
    finally:
        tracker.stop()
