"""The tracker's side of replication and hand-over, through Flask's test client (tracker/nodes/replication.py)."""
import pytest

from protocol.signing import sign
from tests.edges import Edge
from tests.tracker.actions import audit_all, make_app, publish


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, TRACKER_REPLICAS=2, TRACKER_REPLICATION_TIMEOUT=60)


@pytest.fixture
def client(app):
    return app.test_client()


def held_twice(app, client):
    """Two edges, a video published on the first and copied to the second, both copies audited."""
    a, b = Edge(), Edge()
    a.announce(client)
    video = publish(client, a)
    b.copy_from(a, video)
    b.announce(client)
    audit_all(app)
    return a, b, video


def tasks(client, edge, **changes):
    answer = edge.announce(client, event="", **changes)
    assert answer.status_code == 200, answer.json
    return answer.json["tasks"]


def drop(client, edge, video_id):
    return client.post("/api/v1/nodes/drop", json=sign(
        {"node": edge.id, "timestamp": edge.stamp(), "video_id": video_id}, edge.key))


def replicate(video, *sources):
    return {"action": "replicate", "video_id": video, "sources": [s.url for s in sources],
            "size": sources[0].package_size(video)}


def test_a_video_short_of_copies_is_given_to_a_node_with_room(app, client):
    a, b, c = Edge(), Edge(), Edge()
    a.announce(client)
    video = publish(client, a)
    assert tasks(client, a) == []  # it holds it already
    assert tasks(client, b) == [replicate(video, a)]
    assert tasks(client, b) == []  # handed out once, not again while pending
    b.copy_from(a, video)
    tasks(client, b)
    audit_all(app)
    assert tasks(client, c) == []  # done: two audited copies


def test_a_pending_task_is_handed_out_again_after_the_timeout(tmp_path, clock):
    client = make_app(tmp_path, TRACKER_REPLICATION_TIMEOUT=60, CLOCK=clock).test_client()
    a, b = Edge(), Edge()
    a.announce(client)
    video = publish(client, a)
    assert [t["video_id"] for t in tasks(client, b)] == [video]
    clock.advance(59)
    assert tasks(client, b) == []  # still pending
    clock.advance(1)
    assert [t["video_id"] for t in tasks(client, b)] == [video]


def test_no_task_for_a_node_without_room_or_when_enough_copies(app, client):
    a, full, c, d = Edge(), Edge(capacity=10), Edge(), Edge()
    a.announce(client)
    video = publish(client, a)
    full.announce(client)
    assert tasks(client, full) == []
    c.copy_from(a, video)
    c.announce(client)
    audit_all(app)
    assert tasks(client, d) == []


def test_a_dead_nodes_videos_are_copied_elsewhere(tmp_path, clock):
    app = make_app(tmp_path, TRACKER_NODE_TTL=60, CLOCK=clock)
    client = app.test_client()
    a, b, video = held_twice(app, client)
    c = Edge()
    c.announce(client)
    assert tasks(client, c) == []
    clock.advance(61)  # b falls silent past the TTL; a and c keep announcing
    tasks(client, a)
    assert tasks(client, c) == [replicate(video, a)]


def test_hand_over_deletes_only_once_the_target_of_audited_copies_is_elsewhere(app, client):
    a, b, c = Edge(), Edge(), Edge()
    a.announce(client)
    video = publish(client, a)
    answer = drop(client, a, video)
    assert answer.status_code == 202 and answer.json["state"] == "handing_over"
    assert tasks(client, a) == []  # the only copy: never deleted
    assert [t["action"] for t in tasks(client, b)] == ["replicate"]
    assert tasks(client, a) == []  # b has not announced a copy yet
    b.copy_from(a, video)
    tasks(client, b)
    assert tasks(client, a) == []  # announced, not audited: it does not count
    audit_all(app)
    assert tasks(client, a) == []  # one audited copy elsewhere, the target is two
    assert [t["action"] for t in tasks(client, c)] == ["replicate"]
    c.copy_from(a, video)
    tasks(client, c)
    audit_all(app)
    assert tasks(client, a) == [{"action": "delete", "video_id": video}]
    a.videos.remove(video)
    assert tasks(client, a) == []  # hand-over finished


def test_two_nodes_dropping_each_other_keep_one_copy(app, client):
    a, b, video = held_twice(app, client)
    assert drop(client, a, video).status_code == 202
    assert drop(client, b, video).status_code == 202
    assert tasks(client, a) == [] and tasks(client, b) == []


def test_drop_refusals(client):
    a = Edge()
    a.announce(client)
    video = publish(client, a)
    assert drop(client, a, "not-an-id").status_code == 400
    assert drop(client, a, "ab" * 20).json["error"] == "not_held"
    stranger = Edge()
    assert drop(client, stranger, video).status_code == 403
    forged = sign({"node": a.id, "timestamp": a.stamp(), "video_id": video}, stranger.key)
    assert client.post("/api/v1/nodes/drop", json=forged).status_code == 403


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_replayed_drop_is_refused(tmp_path, request, database):
    """A drop is signed with the node's clock like an announce: the same document twice is a replay,
    a newer one (a millisecond later, so stored with more than PostgreSQL REAL's precision) is not."""
    config = {"DATABASE_URL": request.getfixturevalue("postgres_url")} if database == "postgresql" else {}
    app = make_app(tmp_path, TRACKER_REPLICAS=1, **config)
    client = app.test_client()
    a, b, video = held_twice(app, client)
    signed = sign({"node": a.id, "timestamp": a.stamp(), "video_id": video}, a.key)
    assert client.post("/api/v1/nodes/drop", json=signed).status_code == 202
    replay = client.post("/api/v1/nodes/drop", json=signed)
    assert replay.status_code == 400 and replay.json["error"] == "replayed"
    assert drop(client, a, video).status_code == 202
    assert tasks(client, a) == [{"action": "delete", "video_id": video}]


def test_unix_times_are_stored_as_doubles():
    """PostgreSQL stores a peewee FloatField as REAL: 24 bits, 128 s steps at today's Unix times."""
    from peewee import FloatField

    from tracker.schema import MODELS
    floats = {f"{m.__name__}.{name}" for m in MODELS for name, f in m._meta.fields.items()
              if type(f) is FloatField}
    assert floats == {"Video.duration"}
