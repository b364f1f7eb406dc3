"""Failure reports from players (tracker/nodes/reports.py): accepted, rate-limited, and ranking edges down."""
import pytest

from tests.edges import Edge
from tests.tracker.actions import assert_error, audit_all, make_app, new_video_id, publish, source_nodes
from tracker.nodes.models import Node


@pytest.fixture
def two_edges(tmp_path, clock):
    """A tracker with one video on two edges; `roomy` has more free space, so it comes first. Reports
    count for a minute, shorter than the edges' TTL, so the clock can pass it with both still live."""
    app = make_app(tmp_path, TRACKER_REPORT_LIMIT=5, TRACKER_REPORT_WINDOW=60, CLOCK=clock)
    client = app.test_client()
    roomy, tight = Edge(capacity=10**7), Edge(capacity=10**6)
    roomy.announce(client)
    video_id = publish(client, roomy)
    tight.copy_from(roomy, video_id)
    assert tight.announce(client).status_code == 200
    audit_all(app)
    return client, video_id, roomy, tight


def report(client, video_id, node, reason="hash_mismatch", address="127.0.0.1"):
    return client.post(f"/api/v1/videos/{video_id}/reports", json={"node": node, "reason": reason},
                       environ_base={"REMOTE_ADDR": address})


def test_a_reported_edge_goes_behind_the_others(two_edges):
    client, video_id, roomy, tight = two_edges
    assert source_nodes(client, video_id) == [roomy.id, tight.id]
    answer = report(client, video_id, roomy.id)
    assert answer.status_code == 202 and answer.headers["Access-Control-Allow-Origin"] == "*"
    assert source_nodes(client, video_id) == [tight.id, roomy.id]
    # The catalog's poster comes from the best source too.
    assert client.get(f"/api/v1/videos/{video_id}").json["poster_url"].startswith(tight.url)


def test_distinct_reporters_count_not_repeats(two_edges):
    client, video_id, roomy, tight = two_edges
    for reason in ("hash_mismatch", "timeout", "http_error", "timeout"):
        assert report(client, video_id, tight.id, reason, "10.0.0.1").status_code == 202
    report(client, video_id, roomy.id, "timeout", "10.0.0.2")
    report(client, video_id, roomy.id, "timeout", "10.0.0.3")
    # tight: one reporter, however many reports; roomy: two reporters.
    assert source_nodes(client, video_id) == [tight.id, roomy.id]


def test_reports_are_rate_limited_per_reporter(two_edges):
    client, video_id, roomy, _ = two_edges
    for _ in range(3):  # unknown videos are refused before they count
        assert_error(report(client, new_video_id(), roomy.id), 404, "unknown_video")
    assert [report(client, video_id, roomy.id).status_code for _ in range(5)] == [202] * 5
    assert_error(report(client, video_id, roomy.id), 429, "too_many_reports")
    assert report(client, video_id, roomy.id, address="127.0.0.9").status_code == 202
    # An IPv6 /64 is one reporter: one subscriber's addresses, which one host can all take.
    assert [report(client, video_id, roomy.id, address=f"2001:db8::{n}").status_code for n in range(1, 7)] \
        == [202] * 5 + [429]


def test_the_rate_limit_is_per_minute(two_edges, clock):
    client, video_id, roomy, _ = two_edges
    assert [report(client, video_id, roomy.id).status_code for _ in range(5)] == [202] * 5
    clock.advance(59)
    refused = report(client, video_id, roomy.id)
    assert_error(refused, 429, "too_many_reports")
    assert refused.headers["Retry-After"] == "1"  # the oldest of the minute's reports counts one more second
    clock.advance(1)
    assert report(client, video_id, roomy.id).status_code == 202


def test_a_report_counts_only_within_the_window(two_edges, clock):
    client, video_id, roomy, tight = two_edges
    report(client, video_id, roomy.id)
    clock.advance(59)
    assert source_nodes(client, video_id) == [tight.id, roomy.id]
    clock.advance(1)
    assert source_nodes(client, video_id) == [roomy.id, tight.id]


@pytest.mark.parametrize("body,status,code", [
    ({"node": "x", "reason": "timeout"}, 400, "invalid_node"),
    ({"reason": "timeout"}, 400, "invalid_node"),
    ({"node": "ab" * 32, "reason": "bored"}, 400, "invalid_reason"),
    ({"node": "ab" * 32, "reason": "timeout"}, 404, "unknown_node"),
    ([], 400, "bad_json"),
])
def test_bad_reports_are_refused(two_edges, body, status, code):
    client, video_id, _, _ = two_edges
    assert_error(client.post(f"/api/v1/videos/{video_id}/reports", json=body), status, code)


def test_reports_on_unknown_or_malformed_videos(two_edges):
    client, _, roomy, _ = two_edges
    body = {"node": roomy.id, "reason": "timeout"}
    assert_error(client.post(f"/api/v1/videos/{'0' * 40}/reports", json=body), 404, "unknown_video")
    assert_error(client.post("/api/v1/videos/nothex/reports", json=body), 404, "unknown_video")


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_reporter(tmp_path):
    client = make_app(tmp_path, TRACKER_TRUST_PROXY=True, TRACKER_REPORT_LIMIT=1).test_client()
    edge = Edge()
    edge.announce(client)
    video_id = publish(client, edge)
    for viewer in ("203.0.113.1", "203.0.113.2"):  # one proxy, two viewers: each has its own limit
        answer = client.post(f"/api/v1/videos/{video_id}/reports", json={"node": edge.id, "reason": "timeout"},
                             headers={"X-Forwarded-For": f"198.51.100.9, {viewer}"})
        assert answer.status_code == 202


def test_failed_audits_rank_before_free_space_and_reports_before_both(two_edges):
    """The order of tracker/nodes/sources.py: reporters, then failed audits, then free space."""
    client, video_id, roomy, tight = two_edges
    with client.application.app_context():
        Node.update(audit_failures=Node.audit_failures + 1).where(Node.id == roomy.id).execute()
    assert source_nodes(client, video_id) == [tight.id, roomy.id]
    assert report(client, video_id, tight.id).status_code == 202
    assert source_nodes(client, video_id) == [roomy.id, tight.id]
