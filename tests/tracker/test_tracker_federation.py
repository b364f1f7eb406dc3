"""Federated lookup across real trackers on loopback: a chain, a cycle, a dead peer, the hop limit.

    D → A → B → C → A (a cycle), and A → dead (a socket that accepts and never answers).
"""
import socket

import pytest
import requests

from tests.servers import Server, free_port
from tests.tracker.actions import new_video_id, register

TIMEOUT = 1  # TRACKER_FEDERATION_TIMEOUT: seconds per hop
BOUND = 15  # the requests below fail if no answer comes within this


@pytest.fixture(scope="module")
def dead_peer():
    """A listening socket nobody accepts from: connections succeed, answers never come."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def trackers(tmp_path_factory, dead_peer):
    ports = {name: free_port() for name in "ABCD"}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    peers = {"A": [dead_peer, url["B"]], "B": [url["C"]], "C": [url["A"]], "D": [url["A"]]}
    servers = {}
    try:
        for name in "ABCD":
            servers[name] = Server("tracker", tmp_path_factory.mktemp(name), port=ports[name], env={
                "TRACKER_ALLOW_PRIVATE": "1", "TRACKER_NODE_TTL": "600",
                "TRACKER_PEERS": ",".join(peers[name]), "TRACKER_FEDERATION_TIMEOUT": str(TIMEOUT)}).start()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def sources(tracker, video_id, **params):
    return requests.get(f"{tracker.url}/api/v1/videos/{video_id}/sources", params=params, timeout=BOUND)


def metric(tracker, line):
    for text in requests.get(tracker.url + "/metrics", timeout=10).text.splitlines():
        if text.startswith(line + " "):
            return float(text.split()[-1])
    raise AssertionError(f"no {line} in /metrics")


def test_chain_finds_a_video_registered_only_at_the_far_end(trackers):
    video_id, edge = register(trackers["C"])
    answer = sources(trackers["D"], video_id)
    assert answer.status_code == 200, answer.text
    # D → A → B → C, past A's dead peer; C found the edges, so C is the one the ledger pays.
    assert answer.json() == {"video_id": video_id, "found_by": trackers["C"].url,
                             "sources": [{"node": edge.id, "url": edge.url, "reach": "http"}], "ice_servers": []}
    assert sources(trackers["D"], video_id).json() == answer.json()
    assert metric(trackers["D"], 'tracker_source_lookups_total{result="found"}') == 1
    assert metric(trackers["D"], 'tracker_source_lookups_total{result="cached"}') == 1
    assert metric(trackers["B"], 'tracker_federation_requests_total{result="found"}') == 1


def test_hop_limit_stops_the_lookup(trackers):
    video_id, _ = register(trackers["C"])
    # One hop: D asks A, which may not ask further.
    answer = sources(trackers["D"], video_id, hops=1)
    assert answer.status_code == 404 and answer.json()["error"] == "unknown_video"


def test_a_cycle_terminates_and_a_dead_peer_costs_only_its_timeout(trackers):
    unknown = new_video_id()
    answer = sources(trackers["A"], unknown)  # A → dead, A → B → C, and C does not ask A again
    assert answer.status_code == 404 and answer.json()["error"] == "unknown_video"
    assert metric(trackers["A"], 'tracker_federation_requests_total{result="failed"}') >= 1
    for name in "BC":
        assert metric(trackers[name], 'tracker_source_lookups_total{result="missing"}') <= 2


def test_trackers_learn_peers_from_trusted_peers_never_from_a_query(trackers):
    video_id, _ = register(trackers["C"])
    # Anyone can name any URL in ?from=: it is not taken as a peer.
    assert sources(trackers["A"], video_id, **{"from": "http://127.0.0.9:1"}).status_code == 200
    listed = requests.get(trackers["A"].url + "/api/v1/trackers", timeout=10).json()
    assert listed["tracker"] == trackers["A"].url
    assert "http://127.0.0.9:1" not in listed["peers"]
    # A trusts B (configured), and B lists C: A has learnt C from B's list.
    assert trackers["B"].url in listed["peers"] and trackers["C"].url in listed["peers"]


def test_bad_hops_and_ids_are_handled(trackers):
    assert sources(trackers["A"], "nope").status_code == 400
    # hops is an integer from 0 (its document says so), whether or not the video is known here.
    for hops in ("lots", "", "-1", "null"):
        answer = sources(trackers["A"], new_video_id(), hops=hops)
        assert (answer.status_code, answer.json()["error"]) == (400, "invalid_hops"), hops
    video_id, _ = register(trackers["C"])
    assert sources(trackers["C"], video_id, hops="x").status_code == 400
    # More than TRACKER_FEDERATION_HOPS counts as that limit.
    assert sources(trackers["A"], new_video_id(), hops="9" * 1000).status_code == 404
