"""An edge with several trackers (issue 16, item 4) on Flask's test client and two fake trackers:
the settings, a pin per tracker (an old single pin kept), tickets from either tracker registered with
their signer, one pull for two trackers' tasks, and a copy deleted only on every tracker's word."""
import contextlib
import json
import os

import nacl.signing
import pytest

import segmenter
from edge import create_app
from edge.announcer import announce
from edge.config import load
from edge.handover import request_drop
from edge.jobs import run_next
from edge.models import Drop, db
from edge.replication import Replicator
from edge.trackerkey import TrackerKeyMismatch
from protocol.signing import node_id
from tests.edge.faketracker import TRACKER_ID, FakeTracker, make_ticket
from tests.edge.package import fake_package, published_video
from tests.edge.uploads import send

SECOND_KEY = nacl.signing.SigningKey.generate()
SECOND_ID = node_id(SECOND_KEY)
KEY_A, KEY_B = "a" * 64, "B" * 64


@pytest.fixture(scope="module")
def second():
    with contextlib.closing(FakeTracker()) as fake:
        yield fake


@pytest.fixture
def app(tmp_path, tracker, second):
    for fake, key in ((tracker, TRACKER_ID), (second, SECOND_ID)):
        for seen in (fake.announces, fake.registrations, fake.drops):
            seen.clear()
        fake.tasks, fake.key, fake.refuse_registration, fake.unavailable = [], key, None, False
    app = create_app({"SLIPSTREAM_DATA_DIR": str(tmp_path / "edge"), "SLIPSTREAM_PUBLIC_URL": "http://edge.test",
                      "EDGE_TRACKER_URL": f"{tracker.url}, {second.url}/", "EDGE_CAPACITY": "10MB",
                      "EDGE_MAX_UPLOAD": "1MB", "EDGE_BACKGROUND": False})
    yield app
    db.close()


# Settings


def test_one_tracker_url_is_still_a_list_of_one():
    settings = load({}, {"EDGE_TRACKER_URL": "http://t1.test/"})
    assert settings["EDGE_TRACKER_URL"] == ["http://t1.test"] and settings["EDGE_TRACKER_KEY"] == [None]


def test_keys_pair_with_urls_by_position_and_an_empty_entry_pins_on_first_contact():
    settings = load({}, {"EDGE_TRACKER_URL": "http://t1.test, http://t2.test,http://t3.test",
                         "EDGE_TRACKER_KEY": f",{KEY_B}"})
    assert settings["EDGE_TRACKER_URL"] == ["http://t1.test", "http://t2.test", "http://t3.test"]
    assert settings["EDGE_TRACKER_KEY"] == [None, KEY_B.lower(), None]


@pytest.mark.parametrize("urls, keys, message", [
    ("", None, "EDGE_TRACKER_URL must name at least one"),
    (" , ", None, "EDGE_TRACKER_URL must name at least one"),
    ("http://t1.test", f"{KEY_A},{KEY_B}", "EDGE_TRACKER_KEY has 2 entries for 1"),
    ("http://t1.test,http://t2.test", f"{KEY_A},nothex", "EDGE_TRACKER_KEY must be a public key"),
])
def test_malformed_tracker_lists_are_refused_with_their_name(urls, keys, message):
    environ = {"EDGE_TRACKER_KEY": keys} if keys else {}
    with pytest.raises(ValueError, match=message):
        load({"EDGE_TRACKER_URL": urls}, environ)


# Pins


def test_each_tracker_is_pinned_on_its_own(client, node, tracker, second):
    announce(node, node.trackers[0])
    assert node.tracker_keys() == {TRACKER_ID: node.trackers[0]}
    assert node.proof_keys() is None  # the second tracker has yet to prove this edge's URL
    announce(node, node.trackers[1])
    assert set(node.tracker_keys()) == {TRACKER_ID, SECOND_ID} and node.proof_keys() == sorted([TRACKER_ID, SECOND_ID])
    # A mismatch at one tracker is refused there and changes nothing at the other.
    second.key = node_id(nacl.signing.SigningKey.generate())
    with pytest.raises(TrackerKeyMismatch):
        announce(node, node.trackers[1])
    assert announce(node, node.trackers[0])["tracker"] == TRACKER_ID
    status = client.get("/api/v1/status").json
    assert [(t["url"], t["pinned"], t["mismatch"]) for t in status["trackers"]] == [
        (tracker.url, TRACKER_ID, False), (second.url, SECOND_ID, True)]


def test_an_upgraded_edge_keeps_its_single_pin_for_its_first_tracker(tmp_path, tracker, second):
    data = tmp_path / "old-edge"
    data.mkdir()
    (data / "tracker.pub").write_text(KEY_A)
    (data / "tracker.seen").write_text(KEY_A)
    app = create_app({"SLIPSTREAM_DATA_DIR": str(data), "SLIPSTREAM_PUBLIC_URL": "http://edge.test",
                      "EDGE_TRACKER_URL": f"{tracker.url},{second.url}", "EDGE_BACKGROUND": False})
    try:
        node = app.extensions["edge"]
        assert node.tracker_keys() == {KEY_A: node.trackers[0]}
        assert not os.path.exists(data / "tracker.pub") and not os.path.exists(data / "tracker.seen")
        with pytest.raises(TrackerKeyMismatch):  # the fake's key is not the one pinned before
            announce(node, node.trackers[0])
    finally:
        db.close()


# Tickets and registration


@pytest.fixture
def packaging(monkeypatch):
    monkeypatch.setattr(segmenter, "package", fake_package, raising=False)


def test_a_ticket_from_the_second_tracker_is_registered_with_it_alone(client, node, tracker, second, packaging):
    answer = send(client, make_ticket(node, size=100, key=SECOND_KEY), data=b"v" * 100)
    assert answer.status_code == 202, answer.json
    # The edge announced to both to learn their keys: the ticket checks out against the second's.
    assert tracker.announces and second.announces
    assert run_next(node)
    status = client.get(f"/api/v1/jobs/{answer.json['job']}").json
    assert status["state"] == "published", status
    assert [r["video_id"] for r in second.registrations] == [status["video_id"]] and tracker.registrations == []


def test_a_ticket_no_tracker_signed_is_refused(client, node):
    other = nacl.signing.SigningKey.generate()
    answer = send(client, make_ticket(node, size=100, key=other), data=b"v" * 100)
    assert answer.status_code == 401 and answer.json["error"] == "invalid_ticket"
    assert "any of this edge's trackers" in answer.json["message"]


# Tasks from two trackers


def test_replicate_tasks_from_two_trackers_make_one_pull(node):
    replicator = Replicator(node, client=None)  # not started: only what is queued is looked at
    task = {"action": "replicate", "video_id": "ab" * 20, "sources": ["http://e1.test"], "size": 10}
    replicator.submit([task], node.trackers[0])
    replicator.submit([task], node.trackers[1])
    assert replicator.tasks.qsize() == 1
    held = published_video(node)
    replicator.submit([{**task, "video_id": held}], node.trackers[1])
    assert replicator.tasks.qsize() == 1  # a video held already is never pulled again


def test_a_copy_is_deleted_only_once_every_tracker_that_took_the_hand_over_says_so(node, tracker, second):
    video_id = published_video(node)
    replicator = Replicator(node, client=None)
    with db.connection_context():
        request_drop(node, video_id)
    assert [d["video_id"] for d in tracker.drops] == [d["video_id"] for d in second.drops] == [video_id]
    replicator.submit([{"action": "delete", "video_id": video_id}], node.trackers[0])
    assert video_id in node.published()  # the second tracker may still count this copy
    replicator.submit([{"action": "delete", "video_id": video_id}], node.trackers[0])
    assert video_id in node.published()  # one tracker's word twice is still one tracker's
    replicator.submit([{"action": "delete", "video_id": video_id}], node.trackers[1])
    assert video_id not in node.published()


def test_a_tracker_that_did_not_take_the_hand_over_is_not_waited_for(node, tracker, second):
    video_id = published_video(node)
    second_drop = second.drop
    try:
        second.server.app.view_functions["drop"] = lambda: ({"error": "not_held", "message": "no"}, 409)
        with db.connection_context():
            request_drop(node, video_id)
    finally:
        second.server.app.view_functions["drop"] = second_drop
    with db.connection_context():
        assert json.loads(Drop.get(Drop.video_id == video_id).waiting) == [tracker.url]
    Replicator(node, client=None).submit([{"action": "delete", "video_id": video_id}], node.trackers[0])
    assert video_id not in node.published()


def test_any_pinned_trackers_removal_deletes_the_copy_at_once(node, tracker, second):
    """A deletion or takedown (README.md, channels) is not a hand-over: one tracker's word is enough,
    and a hand-over in progress ends with it."""
    video_id = published_video(node)
    with db.connection_context():
        request_drop(node, video_id)  # both trackers took it: a `delete` would wait for both
    replicator = Replicator(node, client=None)
    replicator.submit([{"action": "remove", "video_id": video_id, "reason": "takedown"}], node.trackers[1])
    assert video_id not in node.published() and not os.path.exists(node.video_path(video_id))
    with db.connection_context():
        assert not Drop.select().where(Drop.video_id == video_id).exists()
    replicator.submit([{"action": "remove", "video_id": video_id}], node.trackers[0])  # again: nothing left to do
    assert video_id not in node.published()
