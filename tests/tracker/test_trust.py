"""Trust nothing a node says: one test per attack on the tracker (README.md, trust model).

Each liar is an `Edge` (tests/edges.py) with its own key and its own loopback server answering what
the test wants; each test shows the attack fails and that honest nodes are unaffected.
"""
import uuid

import pytest

from protocol.signing import sign
from tests.edges import Edge
from tests.tracker.actions import assert_error, audit_all, make_app, place, publish, source_nodes


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, TRACKER_NEW_NODE_CAPACITY=100_000)


@pytest.fixture
def client(app):
    return app.test_client()


def tasks(client, edge):
    answer = edge.announce(client, event="")
    assert answer.status_code == 200, answer.json
    return answer.json["tasks"]


def drop(client, edge, video_id):
    return client.post("/api/v1/nodes/drop", json=sign(
        {"node": edge.id, "timestamp": edge.stamp(), "video_id": video_id}, edge.key))


# Capacity is earned ---------------------------------------------------------------------------------

def test_a_huge_declared_capacity_wins_nothing_beyond_a_newcomers_allowance(client):
    liar = Edge(capacity=2**53)
    assert liar.announce(client).status_code == 200
    assert_error(place(client, size=100_001), 507, "no_space")  # beyond the allowance: refused
    assert place(client, size=100_000).json["node"] == liar.id


def test_capacity_grows_with_audited_copies_never_above_the_claim(app, client):
    honest = Edge(capacity=10**6)
    honest.announce(client)
    video = publish(client, honest, size=50_000)
    size = honest.package_size(video)
    honest.announce(client)  # it says it uses nothing: only what it earned bounds it
    assert_error(place(client, size=100_000 + size + 1), 507, "no_space")
    assert place(client, size=100_000 + size).json["node"] == honest.id  # the allowance plus its copy
    modest = Edge(capacity=50_000)
    modest.copy_from(honest, video)
    modest.announce(client)
    audit_all(app)
    modest.announce(client)
    assert_error(place(client, size=50_001), 507, "no_space")  # earned more than it claims: the claim


def test_the_disk_an_edge_reports_free_bounds_its_capacity(client):
    edge = Edge(capacity=10**12, free=5_000)
    edge.announce(client)
    assert_error(place(client, size=5_001), 507, "no_space")
    assert place(client, size=5_000).json["node"] == edge.id


def test_uploads_that_never_register_weigh_a_node_down(tmp_path, clock):
    client = make_app(tmp_path, CLOCK=clock, TRACKER_TICKET_TTL=100, TRACKER_NODE_TTL=10**6).test_client()
    lazy, busy = Edge(), Edge()
    lazy.announce(client)
    for _ in range(30):
        assert place(client, size=10).json["node"] == lazy.id  # none of them ever registers
    busy.announce(client)
    clock.advance(101)  # the tickets expire unused
    # Weights 1/31 against 1: lazy gets about one placement in 32 (ten of 40 would be a 1e-9 fluke).
    placed = [place(client, size=10).json["node"] for _ in range(40)]
    assert placed.count(lazy.id) < 10 and placed.count(busy.id) > 30


# Copies are audited, not announced ------------------------------------------------------------------

def test_announcing_copies_one_does_not_hold_counts_for_nothing(app, client):
    honest, liar, third = Edge(), Edge(), Edge()
    honest.announce(client)
    video = publish(client, honest)
    assert drop(client, honest, video).status_code == 202
    liar.videos.append(video)  # claims a copy it does not have
    liar.announce(client)
    audit_all(app)
    assert source_nodes(client, video) == [honest.id]
    # The last real holder is never told it may delete: the liar's copy did not count.
    assert tasks(client, honest) == []
    # And the video still counts as short of copies: an honest node is asked to pull it.
    assert [t["action"] for t in tasks(client, third)] == ["replicate"]


def test_a_copy_with_wrong_bytes_fails_its_audit_and_ranks_the_node_down(app, client):
    honest, liar = Edge(capacity=10**6), Edge(capacity=10**8)
    honest.announce(client)
    video = publish(client, honest)
    liar.copy_from(honest, video)
    liar.lies.add("files")  # the manifest is right, the files are not
    liar.announce(client)
    audit_all(app)
    assert source_nodes(client, video) == [honest.id]
    from tracker.nodes.models import Node
    assert Node.get_by_id(liar.id).audit_failures == 1
    # It may announce it again: the copy is audited again, and fails again.
    liar.announce(client)
    audit_all(app)
    assert source_nodes(client, video) == [honest.id] and Node.get_by_id(liar.id).audit_failures == 2


# Proven URLs ----------------------------------------------------------------------------------------

def test_an_honest_edges_url_under_another_key_is_refused(client):
    honest, liar = Edge(), Edge()
    # Before the honest edge announces, the liar's claim goes to a proof, which the server there
    # cannot give for the liar's key.
    assert_error(liar.announce(client, url=honest.url), 422, "url_not_proven")
    assert honest.announce(client).status_code == 200
    # Once the honest edge has proven it, the URL is taken.
    assert_error(liar.announce(client, url=honest.url), 409, "url_taken")
    assert {place(client).json["node"] for _ in range(10)} == {honest.id}


def test_a_server_that_signs_proofs_with_another_key_is_listed_nowhere(client):
    liar = Edge()
    liar.lies.add("proof")
    assert_error(liar.announce(client), 422, "url_not_proven")
    assert_error(place(client), 507, "no_space")


def test_a_url_is_proven_again_when_it_changes_and_now_and_then(tmp_path, clock):
    # An interval within the 300 s the tracker's clock may be ahead of the edge's signed timestamps.
    client = make_app(tmp_path, CLOCK=clock, TRACKER_PROOF_INTERVAL=200, TRACKER_NODE_TTL=10**6).test_client()
    edge = Edge()
    edge.announce(client)
    edge.announce(client)
    assert edge.proofs == 1
    clock.advance(200)
    edge.announce(client)
    assert edge.proofs == 2
    moved = Edge()
    assert edge.announce(client, url=moved.url).status_code == 422  # that server holds another key


# Registrations come from tickets ---------------------------------------------------------------------

def test_a_registration_needs_the_package_behind_it(app, client):
    liar = Edge()
    liar.announce(client)
    upload = place(client).json["upload"]
    assert_error(liar.register(client, upload, "ab" * 20), 422, "bad_package")  # it holds no such video
    big = liar.make_package(segments=9, segment_size=2 * 1024 * 1024)  # over 16 MiB, the slack of any upload
    small = place(client, size=10).json["upload"]
    assert_error(liar.register(client, small, big), 422, "bad_package")  # far bigger than its upload
    assert client.get("/api/v1/videos").json["total"] == 0


def test_sizes_and_metadata_come_from_the_checked_manifest_and_the_placement(client):
    edge = Edge()
    edge.announce(client)
    upload = place(client, "The real title", creator="ann").json["upload"]
    video = edge.make_package()
    answer = edge.register(client, upload, video, size=-10**9, title="forged", creator="mallory")
    assert answer.status_code == 201
    item = client.get(f"/api/v1/videos/{video}").json
    assert (item["title"], item["creator"], item["size"]) == ("The real title", "ann", edge.package_size(video))


def test_an_announce_of_an_unknown_video_adds_nothing(app, client):
    edge = Edge()
    edge.videos.append("cd" * 20)
    edge.announce(client)
    audit_all(app)
    assert client.get("/api/v1/videos").json["total"] == 0
    assert client.get(f"/api/v1/videos/{'cd' * 20}/sources").status_code == 404


# Donations credit only what can have happened --------------------------------------------------------

def test_a_served_claim_for_a_node_without_an_audited_copy_goes_to_the_creator(app, client):
    honest, liar = Edge(), Edge()
    honest.announce(client)
    video = publish(client, honest, creator="alice")
    liar.announce(client)
    body = {"video_id": video, "amount": 1000, "currency": "EUR",
            "served": {honest.id: 1000, liar.id: 1000}}
    answer = client.post("/api/v1/donations", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.json
    postings = {p["account"]: p["amount"] for p in answer.json["postings"]}
    assert f"node:{liar.id}" not in postings
    assert postings[f"node:{honest.id}"] == 35 and postings["creator:alice"] == 935  # 90 % + the liar's 3.5 %
    assert answer.json["uncredited"] == [{"node": liar.id, "bytes": 1000, "reason": "no_audited_copy"}]


def test_a_served_claim_is_credited_up_to_a_bound(app, client):
    edge = Edge()
    edge.announce(client)
    video = publish(client, edge)
    bound = 4 * edge.package_size(video)
    body = {"video_id": video, "amount": 1000, "currency": "EUR", "served": {edge.id: bound * 10}}
    answer = client.post("/api/v1/donations", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.json["uncredited"] == [{"node": edge.id, "bytes": bound * 9, "reason": "over_bound"}]
    again = client.post("/api/v1/donations", json=body, headers={"Idempotency-Key": "same"})
    assert client.post("/api/v1/donations", json=body, headers={"Idempotency-Key": "same"}).json == again.json
