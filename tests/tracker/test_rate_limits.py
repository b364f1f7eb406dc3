"""Per-address rate limits (tracker/ratelimits.py; README.md, rate limits): placements, donations and
lookups that ask peer trackers are token buckets per client address; reserved bytes are counted over
an address's unfinished placements. Past a limit: 429 with Retry-After and a reason."""
import http.client
import json
import uuid

import pytest
import requests

from tests.channels import ChannelKey
from tests.edges import Edge
from tests.openapi_check import errors, header_errors, response_schema
from tests.servers import start_tracker
from tests.tracker.actions import assert_error, make_app, new_video_id, place, publish
from tests.tracker.bittorrent import announce_query
from tracker.bittorrent.bencode import bdecode
from tracker.catalog.models import Upload

# One token a minute after a burst of two: the third request in a row is refused for 60 s.
TIGHT = {f"TRACKER_RATE_{name}{burst}": value for name in ("PLACEMENTS", "DONATIONS", "LOOKUPS", "FLAGS", "CHANNELS")
         for burst, value in (("", 1), ("_BURST", 2))}
DEAD_PEER = "http://127.0.0.1:9"  # nothing listens there: a lookup asks it and misses at once


@pytest.fixture
def site(tmp_path, clock):
    """A tracker with tight limits and a peer, a live edge, and one video (published from 127.0.0.1,
    an address the tests below do not use)."""
    app = make_app(tmp_path, CLOCK=clock, TRACKER_PEERS=[DEAD_PEER], **TIGHT)
    client = app.test_client()
    edge = Edge()
    assert edge.announce(client).status_code == 200
    return app, client, edge, publish(client, edge)


def placement(client, address, size=10, video_id=None):
    return client.post("/api/v1/uploads", json={"title": "t", "size": size}, environ_base={"REMOTE_ADDR": address})


def donation(client, address, video_id):
    return client.post("/api/v1/donations", json={"video_id": video_id, "amount": 100, "currency": "EUR"},
                       headers={"Idempotency-Key": str(uuid.uuid4())}, environ_base={"REMOTE_ADDR": address})


def lookup(client, address, video_id=None):
    """The sources of a video neither this tracker nor its peer knows: the peer is asked each time."""
    return client.get(f"/api/v1/videos/{new_video_id()}/sources", environ_base={"REMOTE_ADDR": address})


def flag(client, address, video_id):
    return client.post(f"/api/v1/videos/{video_id}/flags", json={"reason": "spam"},
                       environ_base={"REMOTE_ADDR": address})


def channel_request(client, address, video_id=None):
    """A new channel names itself: keys cost nothing, so only the address bounds how many."""
    return client.post("/api/v1/channels", json=ChannelKey().update(name="c"), environ_base={"REMOTE_ADDR": address})


LIMITED = pytest.mark.parametrize("ask, served, code", [
    (placement, 200, "too_many_placements"), (donation, 201, "too_many_donations"), (lookup, 404, "too_many_lookups"),
    (flag, 201, "too_many_flags"), (channel_request, 201, "too_many_channels")])
OPERATIONS = {placement: ("/api/v1/uploads", "post"), donation: ("/api/v1/donations", "post"),
              lookup: ("/api/v1/videos/{video_id}/sources", "get"), flag: ("/api/v1/videos/{video_id}/flags", "post"),
              channel_request: ("/api/v1/channels", "post")}


@LIMITED
def test_past_the_burst_an_address_gets_429_with_retry_after(site, ask, served, code):
    app, client, _, video_id = site
    assert [ask(client, "192.0.2.1", video_id=video_id).status_code for _ in range(2)] == [served] * 2
    refused = ask(client, "192.0.2.1", video_id=video_id)
    assert_error(refused, 429, code)
    assert refused.headers["Retry-After"] == "60"  # one token a minute; the clock stands still
    assert "TRACKER_RATE_" in refused.json["message"] and "retry in 60 s" in refused.json["message"]
    spec = client.get("/api/v1/openapi.json").json
    assert not errors(refused.json, response_schema(spec, *OPERATIONS[ask], 429), spec)
    assert not header_errors(refused.headers, spec, *OPERATIONS[ask], 429)
    assert ask(client, "192.0.2.2", video_id=video_id).status_code == served  # another address has its own bucket
    metrics = client.get("/metrics").get_data(as_text=True)
    assert f'tracker_rate_limited_total{{code="{code}"}} 1.0' in metrics


@LIMITED
def test_the_bucket_refills_as_the_clock_moves(site, clock, ask, served, code):
    _, client, _, video_id = site
    for _ in range(2):
        ask(client, "192.0.2.1", video_id=video_id)
    clock.advance(59)
    assert ask(client, "192.0.2.1", video_id=video_id).headers["Retry-After"] == "1"
    clock.advance(1)
    assert ask(client, "192.0.2.1", video_id=video_id).status_code == served
    assert_error(ask(client, "192.0.2.1", video_id=video_id), 429, code)


@LIMITED
def test_an_ipv6_64_is_one_client(site, ask, served, code):
    _, client, _, video_id = site
    statuses = [ask(client, address, video_id=video_id).status_code for address in
                ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::3")]
    assert statuses == [served, served, 429]
    assert ask(client, "2001:db8:1:3::1", video_id=video_id).status_code == served
    # An IPv4 client of a dual-stack socket is its IPv4 address.
    assert [ask(client, a, video_id=video_id).status_code for a in ("192.0.2.9", "::ffff:192.0.2.9", "192.0.2.9")] \
        == [served, served, 429]


def test_behind_a_trusted_proxy_the_forwarded_client_counts_and_ip_does_not(tmp_path):
    app = make_app(tmp_path, TRACKER_TRUST_PROXY=True, **TIGHT)
    client = app.test_client()
    Edge().announce(client)
    # The proxy appends the address it took the request from; whatever came before is the client's say.
    for claimed in ("203.0.113.7", "10.0.0.1"):
        answer = client.post("/api/v1/uploads?ip=203.0.113.99", json={"title": "t", "size": 10},
                             headers={"X-Forwarded-For": f"{claimed}, 198.51.100.1"})
        assert answer.status_code == 200
    assert_error(client.post("/api/v1/uploads", json={"title": "t", "size": 10},
                             headers={"X-Forwarded-For": "198.51.100.1"}), 429, "too_many_placements")
    assert client.post("/api/v1/uploads", json={"title": "t", "size": 10},
                       headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 200
    with app.app_context():
        assert sorted(u.client for u in Upload.select()) == ["198.51.100.1", "198.51.100.1", "198.51.100.2"]


def test_without_a_trusted_proxy_x_forwarded_for_is_anyone_s_claim(tmp_path):
    client = make_app(tmp_path, **TIGHT).test_client()
    Edge().announce(client)
    statuses = [client.post("/api/v1/uploads", json={"title": "t", "size": 10},
                            headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(3)]
    assert statuses == [200, 200, 429]


def test_zero_turns_a_limit_off(tmp_path):
    client = make_app(tmp_path, **{**TIGHT, "TRACKER_RATE_PLACEMENTS": 0}).test_client()
    Edge().announce(client)
    assert {place(client).status_code for _ in range(5)} == {200}


def test_edges_bittorrent_and_known_sources_are_never_limited(site):
    _, client, edge, video_id = site
    for n in range(5):
        assert edge.announce(client).status_code == 200
        assert client.get(f"/api/v1/videos/{video_id}/sources").status_code == 200
        query = announce_query(bytes.fromhex(video_id), b"-XX0000-%012d" % n, 6881)
        assert b"failure reason" not in bdecode(client.get("/announce?" + query).data)


@pytest.fixture
def reserving(app, clock):
    """A tracker (on each database) whose clients may hold 1000 bytes in placements lasting 60 s."""
    app.config.update(CLOCK=clock, TRACKER_RATE_RESERVED=1000, TRACKER_TICKET_TTL=60, TRACKER_NODE_TTL=600)
    client = app.test_client()
    edge = Edge(capacity=10**6)
    assert edge.announce(client).status_code == 200
    return client, edge


def test_reserved_bytes_are_bounded_per_address(reserving, clock):
    client, _ = reserving
    assert placement(client, "127.0.0.1", 600).status_code == 200
    clock.advance(10)
    assert placement(client, "127.0.0.1", 400).status_code == 200
    # 1000 bytes held: 500 more fit once the first placement expires (in 50 s), 700 once both have.
    for size, wait in ((500, "50"), (700, "60"), (1, "50")):
        refused = placement(client, "127.0.0.1", size)
        assert_error(refused, 429, "too_much_reserved")
        assert refused.headers["Retry-After"] == wait
        assert "TRACKER_RATE_RESERVED" in refused.json["message"]
    assert placement(client, "192.0.2.1").status_code == 200
    too_large = placement(client, "192.0.2.2", 1001)
    assert_error(too_large, 400, "invalid_size")
    assert "TRACKER_RATE_RESERVED" in too_large.json["message"]


def test_one_address_holds_at_most_a_share_of_a_small_networks_free_space(app, clock):
    """On a network with less free space than TRACKER_RATE_RESERVED, the share is the bound: one
    address cannot reserve every edge's room, and another address still can place."""
    app.config.update(CLOCK=clock, TRACKER_RATE_RESERVED_SHARE=0.25)
    client = app.test_client()
    assert Edge(capacity=4000).announce(client).status_code == 200
    refused = placement(client, "127.0.0.1", 1001)  # more than a quarter of the 4000 bytes free
    assert_error(refused, 507, "no_space")
    assert "TRACKER_RATE_RESERVED_SHARE" in refused.json["message"]
    assert placement(client, "127.0.0.1", 600).status_code == 200
    # 600 held of 1000 (a quarter of 3400 free + its own 600): 400 more fit, 401 do not.
    crowded = placement(client, "127.0.0.1", 401)
    assert_error(crowded, 429, "too_much_reserved")
    assert "TRACKER_RATE_RESERVED_SHARE" in crowded.json["message"]
    assert placement(client, "127.0.0.1", 400).status_code == 200
    assert placement(client, "192.0.2.1", 700).status_code == 200  # a quarter of 3000 free, for another


def test_reserved_bytes_free_up_when_registered_or_expired(reserving, clock):
    client, edge = reserving
    first = placement(client, "127.0.0.1", 1000).json["upload"]
    assert_error(placement(client, "127.0.0.1", 1), 429, "too_much_reserved")
    assert edge.register(client, first).status_code == 201
    second = placement(client, "127.0.0.1", 1000)
    assert second.status_code == 200
    assert_error(placement(client, "127.0.0.1", 1), 429, "too_much_reserved")
    clock.advance(second.json["expires"] - clock.now)
    assert placement(client, "127.0.0.1", 1000).status_code == 200


def test_a_real_tracker_counts_each_source_address(tmp_path):
    """Under gunicorn, from two loopback addresses: one is refused past its burst, the other served."""
    tracker = start_tracker(tmp_path, WEB_CONCURRENCY="1", TRACKER_RATE_PLACEMENTS="1",
                            TRACKER_RATE_PLACEMENTS_BURST="2")
    try:
        edge = Edge(capacity=10**9)
        assert requests.post(tracker.url + "/api/v1/nodes/announce", json=edge.announce_doc(), timeout=10).ok

        def place_from(address):
            connection = http.client.HTTPConnection("127.0.0.1", tracker.port, timeout=10,
                                                    source_address=(address, 0))
            try:
                connection.request("POST", "/api/v1/uploads", body=json.dumps({"title": "t", "size": 10}),
                                   headers={"Content-Type": "application/json"})
                answer = connection.getresponse()
                return answer.status, answer.getheader("Retry-After"), json.loads(answer.read())
            finally:
                connection.close()

        answers = [place_from("127.0.0.2") for _ in range(3)]
        assert [status for status, _, _ in answers] == [200, 200, 429]
        assert answers[2][2]["error"] == "too_many_placements" and 55 <= int(answers[2][1]) <= 60
        assert place_from("127.0.0.3")[0] == 200
    finally:
        tracker.stop()
