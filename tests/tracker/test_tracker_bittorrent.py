"""GET /announce and GET /scrape (BEP 3, 7, 23, 48): through Flask's test client, then libtorrent
announcing to and scraping the real tracker under gunicorn."""
import concurrent.futures
import socket
from urllib.parse import unquote_to_bytes

import hypothesis
import pytest
import requests

from tests.actions import wait_for
from tests.edges import Edge
from tests.servers import start_tracker
from tests.tracker.actions import make_app, publish, source_nodes
from tests.tracker.bittorrent import Peer, announce_query, get, scrape_query
from tracker.bittorrent.bencode import bdecode

# Bytes that are not UTF-8: a text decoder would turn them into U+FFFD.
RAW_ID = bytes(range(0xF0, 0x100)) + b"\x00\x80\xc3\x28"


@pytest.fixture
def video(client):
    """(info-hash, the edge holding it): a published video on one live edge."""
    edge = Edge()
    edge.announce(client)
    video_id = publish(client, edge)
    edge.announce(client)
    return bytes.fromhex(video_id), edge


def announce(client, info_hash, peer_id, port=6881, address="127.0.0.1", **extra):
    answer = client.get("/announce?" + announce_query(info_hash, peer_id, port, **extra),
                        environ_base={"REMOTE_ADDR": address})
    assert answer.status_code == 200 and answer.content_type == "text/plain"
    assert b"failure reason" not in bdecode(answer.data), answer.data
    return bdecode(answer.data)


def scrape(client, *info_hashes):
    return bdecode(client.get("/scrape?" + scrape_query(*info_hashes)).data)


def peer_id(n):
    return b"-SL0001-" + n.to_bytes(12, "big")


def flush(app):
    app.extensions["tracker.bittorrent"].swarms.flush()


def test_announce_answers_interval_counts_and_compact_peers(app, client, video):
    info_hash, _ = video
    first = announce(client, info_hash, peer_id(1), 6881, left=100)
    assert 1800 <= first[b"interval"] <= 1980 and first[b"min interval"] == 900
    assert (first[b"complete"], first[b"incomplete"]) == (1, 1)  # the edge seeds; this peer leeches
    assert first[b"peers"] == b"" and first[b"peers6"] == b""
    second = announce(client, info_hash, peer_id(2), 51413, address="10.0.0.2", left=0)
    # BEP 23: 4 address bytes and 2 port bytes, network order; never the asking peer itself.
    assert second[b"peers"] == bytes([127, 0, 0, 1]) + (6881).to_bytes(2, "big")
    assert (second[b"complete"], second[b"incomplete"]) == (2, 1)


def test_ipv6_peers_come_in_peers6(client, video):
    info_hash, _ = video
    announce(client, info_hash, peer_id(1), 6881, address="2001:db8::1")
    announce(client, info_hash, peer_id(2), 6882, address="::ffff:192.0.2.7")  # a mapped IPv4 is IPv4
    answer = announce(client, info_hash, peer_id(3), 6883)
    # BEP 7: 16 address bytes and 2 port bytes.
    assert answer[b"peers6"] == bytes.fromhex("20010db8000000000000000000000001") + (6881).to_bytes(2, "big")
    assert answer[b"peers"] == bytes([192, 0, 2, 7]) + (6882).to_bytes(2, "big")


def test_raw_peer_ids_survive_in_the_non_compact_model(client, video):
    info_hash, _ = video
    announce(client, info_hash, RAW_ID, 7000)
    answer = announce(client, info_hash, peer_id(2), 7001, compact=0)
    assert answer[b"peers"] == [{b"ip": b"127.0.0.1", b"port": 7000, b"peer id": RAW_ID}]
    assert announce(client, info_hash, peer_id(2), 7001, compact=0, no_peer_id=1)[b"peers"] == [
        {b"ip": b"127.0.0.1", b"port": 7000}]


def test_numwant_defaults_to_50_and_is_capped_at_100(client, video):
    info_hash, _ = video
    for n in range(120):
        announce(client, info_hash, peer_id(n), 10000 + n)
    assert len(announce(client, info_hash, peer_id(0), 10000)[b"peers"]) == 50 * 6
    assert len(announce(client, info_hash, peer_id(0), 10000, numwant=1000)[b"peers"]) == 100 * 6
    assert announce(client, info_hash, peer_id(0), 10000, numwant=0)[b"peers"] == b""


def test_claimed_ip_is_ignored_with_a_warning(client, video):
    info_hash, _ = video
    answer = announce(client, info_hash, peer_id(1), 6881, ip="203.0.113.9")
    assert b"ignored" in answer[b"warning message"]
    assert announce(client, info_hash, peer_id(2), 6882)[b"peers"] == bytes([127, 0, 0, 1, 0x1a, 0xe1])


def test_behind_a_trusted_proxy_the_forwarded_client_counts_and_ip_does_not(tmp_path):
    app = make_app(tmp_path, TRACKER_TRUST_PROXY=True)
    client = app.test_client()
    edge = Edge()
    edge.announce(client)
    info_hash = bytes.fromhex(publish(client, edge))
    proxied = {"X-Forwarded-For": "198.51.100.1, 198.51.100.4"}  # a client's claim, then the proxy's entry
    claimed = client.get("/announce?" + announce_query(info_hash, peer_id(1), 6881, ip="203.0.113.9"),
                         headers=proxied)
    assert b"ignored" in bdecode(claimed.data)[b"warning message"]
    forwarded = client.get("/announce?" + announce_query(info_hash, peer_id(2), 6882), headers=proxied)
    assert bdecode(forwarded.data)[b"peers"] == bytes([198, 51, 100, 4, 0x1a, 0xe1])
    listed = announce(client, info_hash, peer_id(3), 6883)[b"peers"]
    assert listed.count(bytes([198, 51, 100, 4])) == 2 and bytes([203, 0, 113, 9]) not in listed


def test_stopped_leaves_and_completed_counts_as_downloaded(app, client, video):
    info_hash, _ = video
    announce(client, info_hash, peer_id(1), 6881, left=10)
    announce(client, info_hash, peer_id(2), 6882, left=10)
    announce(client, info_hash, peer_id(1), 6881, left=0, event="completed")
    assert announce(client, info_hash, peer_id(2), 6882, event="stopped")[b"peers"] == b""
    flush(app)
    files = scrape(client, info_hash)[b"files"]
    assert files == {info_hash: {b"complete": 2, b"incomplete": 0, b"downloaded": 1}}


@pytest.mark.parametrize("query,reason", [
    ("", b"info_hash"), ("info_hash=abc&peer_id=12345678901234567890&port=1", b"info_hash"),
    (announce_query(b"x" * 20, b"y" * 19, 6881)[:-10], b"peer_id"),
    (announce_query(b"\x00" * 20, b"p" * 20, 0), b"port"),
    (announce_query(b"\x00" * 20, b"p" * 20, 6881, event="exploded"), b"event"),
    (announce_query(b"\x00" * 20, b"p" * 20, 6881, numwant="-1"), b"numwant"),
    (announce_query(b"\x00" * 20, b"p" * 20, 6881), b"unknown info_hash"),
])
def test_bad_announces_get_a_failure_reason(client, video, query, reason):
    answer = bdecode(client.get("/announce?" + query).data)
    assert list(answer) == [b"failure reason"] and reason in answer[b"failure reason"]


def test_scrape_takes_several_hashes_keeps_raw_keys_and_skips_unknown(app, client, video):
    info_hash, edge = video
    other = bytes.fromhex(publish(client, edge))
    announce(client, other, RAW_ID, 6881)
    flush(app)
    files = scrape(client, info_hash, other, b"\xff" * 20)[b"files"]
    assert files == {info_hash: {b"complete": 1, b"incomplete": 0, b"downloaded": 0},
                     other: {b"complete": 1, b"incomplete": 1, b"downloaded": 0}}


@pytest.mark.parametrize("hashes", [0, 65])
def test_empty_and_oversized_scrapes_fail(client, hashes):
    answer = scrape(client, *[n.to_bytes(20, "big") for n in range(hashes)])
    assert b"failure reason" in answer


def test_plain_peers_are_never_video_sources(client, video):
    info_hash, edge = video
    announce(client, info_hash, peer_id(1), 6881, left=0)
    assert source_nodes(client, info_hash.hex()) == [edge.id]


def test_announces_and_scrapes_are_counted(client, video):
    info_hash, _ = video
    announce(client, info_hash, peer_id(1), 6881)
    scrape(client, b"\x00" * 20 * 0)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'tracker_bittorrent_requests_total{kind="announce",result="ok"} 1.0' in text
    assert 'tracker_bittorrent_requests_total{kind="scrape",result="failure"} 1.0' in text


# libtorrent against the real tracker ---------------------------------------------------------------

@pytest.fixture
def served_video(tmp_path):
    """A gunicorn tracker with two workers and one video held by one live edge: (tracker, info-hash)."""
    tracker = start_tracker(tmp_path / "tracker", WEB_CONCURRENCY="2", TRACKER_NODE_TTL="120")
    try:
        edge = Edge(capacity=10**9)
        post = lambda path, doc: requests.post(tracker.url + path, json=doc, timeout=10)  # noqa: E731
        assert post("/api/v1/nodes/announce", edge.announce_doc()).status_code == 200
        upload = requests.post(tracker.url + "/api/v1/uploads", json={"title": "t", "size": 10}, timeout=10)
        video_id = post("/api/v1/videos", edge.registration_doc(upload.json()["upload"], edge.make_package())).json()
        edge.videos = [video_id["video_id"]]
        assert post("/api/v1/nodes/announce", edge.announce_doc()).status_code == 200
        yield tracker, bytes.fromhex(video_id["video_id"])
    finally:
        tracker.stop()


def test_libtorrent_announces_and_scrapes(served_video, tmp_path):
    tracker, info_hash = served_video
    first, second = Peer(tracker.url, info_hash), Peer(tracker.url, info_hash)
    try:
        assert first.announce().num_peers == 0
        # Two workers: the second peer's announce may reach the other one, which sees the first
        # peer once its worker has flushed (a quarter of a second).
        wait_for(lambda: second.announce().num_peers == 1, message="libtorrent sees the other peer", timeout=60)
        wait_for(lambda: {first.port, second.port} <= listed_ports(tracker, info_hash), message="both listed", timeout=60)
        scraped = wait_for(lambda: (lambda a: a.incomplete == 3 and a)(first.scrape()), message="scrape counts", timeout=60)
        assert scraped.complete == 1  # the edge
    finally:
        first.close()
        second.close()
    # Closing a session announces `stopped`: only our own raw peer is left, and a restart keeps it.
    wait_for(lambda: leechers(tracker, info_hash) == 1, message="libtorrent's stopped events", timeout=60)
    tracker.stop()
    tracker.start()
    assert leechers(tracker, info_hash) == 1


def pipelined(port, heads):
    """[(status line, body)] of the answers to request `heads` sent in one write, read until the
    server closes the connection (the last head asks it to)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall("".join(heads).encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    answers = []
    for head in heads:
        status_and_fields, _, received = received.partition(b"\r\n\r\n")
        lines = status_and_fields.split(b"\r\n")
        fields = dict(line.lower().split(b": ", 1) for line in lines[1:])
        length = 0 if head.startswith("HEAD") else int(fields[b"content-length"])
        answers.append((lines[0], received[:length]))
        received = received[length:]
    assert received == b""
    return answers


def leechers(tracker, info_hash):
    return get(tracker.url, "/scrape", scrape_query(info_hash))[b"files"][info_hash][b"incomplete"]


def listed_ports(tracker, info_hash):
    ours = get(tracker.url, "/announce", announce_query(info_hash, b"-XX0000-" + b"\xfe" * 12, 6881))
    return {int.from_bytes(ours[b"peers"][i + 4:i + 6], "big") for i in range(0, len(ours[b"peers"]), 6)}


def test_many_workers_share_one_sqlite_file_without_locking_errors(tmp_path):
    """Four workers take BitTorrent announces, edge announces, placements and registrations at once."""
    tracker = start_tracker(tmp_path, WEB_CONCURRENCY="4", TRACKER_NODE_TTL="120")
    try:
        edges = [Edge(capacity=10**9) for n in range(4)]
        post = lambda path, doc: requests.post(tracker.url + path, json=doc, timeout=30)  # noqa: E731
        for edge in edges:
            assert post("/api/v1/nodes/announce", edge.announce_doc()).status_code == 200
        info_hash = bytes.fromhex(publish_over_http(tracker, edges))

        def work(n):
            if n % 3 == 0:  # a new edge joins (one edge's announces must arrive in order)
                return post("/api/v1/nodes/announce", Edge().announce_doc()).status_code
            if n % 3 == 1:
                return requests.post(tracker.url + "/api/v1/uploads", json={"title": "t", "size": 10},
                                     timeout=30).status_code
            get(tracker.url, "/announce", announce_query(info_hash, peer_id(n), 10000 + n))
            return 200

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            assert set(pool.map(work, range(300))) == {200}
        wait_for(lambda: leechers(tracker, info_hash) == 100, message="every peer counted", timeout=60)
    finally:
        tracker.stop()
    assert "database is locked" not in tracker.logs() and "Traceback" not in tracker.logs()


def publish_over_http(tracker, edges):
    """One video placed and registered on whichever of `edges` placement picks: its id."""
    upload = requests.post(tracker.url + "/api/v1/uploads", json={"title": "t", "size": 10}, timeout=10).json()
    edge = next(e for e in edges if e.id == upload["node"])
    document = edge.registration_doc(upload["upload"], edge.make_package())
    return requests.post(tracker.url + "/api/v1/videos", json=document, timeout=10).json()["video_id"]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_huge_swarm_is_counted_in_full_and_sampled(tmp_path, monkeypatch, request, database):
    from tracker.bittorrent import pgswarm, swarm
    monkeypatch.setattr(swarm, "READ_CAP", 10)
    store = (pgswarm.PostgresSwarms(request.getfixturevalue("postgres_url")) if database == "postgresql"
             else swarm.Swarms(str(tmp_path / "swarm.db")))
    for n in range(25):
        store.put(b"h" * 20, peer_id(n), (bytes([10, 0, 0, n, 0, 80]), int(n < 5), 2e9))
    store.flush(now=1e9)
    view = store.swarm(b"h" * 20, 1e9)
    assert (view.seeders, view.leechers) == (5, 20) and 1 <= len(view.peers) <= 10


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
@pytest.mark.parametrize("path", ["/announce", "/scrape"])
def test_announce_and_scrape_take_only_get(client, video, method, path):
    info_hash, _ = video
    answer = client.open(f"{path}?{announce_query(info_hash, peer_id(1), 6881)}", method=method)
    assert (answer.status_code, answer.headers["Allow"]) == (405, "GET, HEAD")
    head = client.head(f"{path}?{announce_query(info_hash, peer_id(1), 6881)}")
    assert head.status_code == 200 and head.data == b"" and int(head.headers["Content-Length"]) > 0


def test_the_fast_answer_is_the_bencoded_answer():
    from tracker.bittorrent.bencode import bencode
    from tracker.bittorrent.frontend import compact_answer
    answer = {"interval": 1900, "min interval": 900, "complete": 3, "incomplete": 0,
              "peers": bytes(range(12)), "peers6": b""}
    assert compact_answer(answer) == bencode(answer)


@hypothesis.given(hypothesis.strategies.lists(hypothesis.strategies.one_of(
    hypothesis.strategies.binary(max_size=4),
    hypothesis.strategies.sampled_from([b"%", b"+", b" ", b"\t", b"%2d", b"%fF", b"%g0", b"%\xff"]))))
def test_values_unquote_as_urllib_unquotes_them(parts):
    """query.py's fast path for wholly escaped values gives urllib's bytes for any value, escaped or not."""
    from tracker.bittorrent.query import unquote
    raw = b"".join(parts)
    for value in (raw, b"".join(b"%%%02x" % byte for byte in raw), b"".join(b"%%%02X" % byte for byte in raw)):
        assert unquote(value) == unquote_to_bytes(value.replace(b"+", b" "))


@pytest.mark.parametrize("worker", ["tracker.worker.TrackerWorker", "runtime.worker.SharingWorker", "gthread"])
def test_every_worker_class_answers_alike(tmp_path, worker):
    """The tracker's worker answers plain BitTorrent GETs as they arrive (tracker/worker.py), the rest
    of BitTorrent on the event loop (tracker/asgi.py, all SharingWorker does) and hands the rest to
    Flask; `-k gthread` serves the same app as plain WSGI. All give the same answers."""
    tracker = start_tracker(tmp_path, WEB_CONCURRENCY="1", TRACKER_NODE_TTL="120", TRACKER_TRUST_PROXY="1",
                            GUNICORN_CMD_ARGS=f"-k {worker}")
    try:
        edge = Edge(capacity=10**9)
        assert requests.post(tracker.url + "/api/v1/nodes/announce", json=edge.announce_doc(), timeout=10).ok
        info_hash = bytes.fromhex(publish_over_http(tracker, [edge]))
        edge.videos = [info_hash.hex()]
        assert requests.post(tracker.url + "/api/v1/nodes/announce", json=edge.announce_doc(), timeout=10).ok
        wait_for(lambda: get(tracker.url, "/announce", announce_query(info_hash, RAW_ID, 6881))[b"complete"] == 1,
                 message="the edge counted as a seeder", timeout=30)
        behind_proxy = requests.get(f"{tracker.url}/announce?{announce_query(info_hash, peer_id(2), 6882)}",
                                    headers={"X-Forwarded-For": "198.51.100.1, 198.51.100.4"}, timeout=10)
        assert bdecode(behind_proxy.content)[b"peers"] == bytes([127, 0, 0, 1, 0x1a, 0xe1])
        answer = get(tracker.url, "/announce", announce_query(info_hash, peer_id(3), 6883, left=0))
        assert sorted(answer[b"peers"][i:i + 6] for i in range(0, 12, 6)) == [
            bytes([127, 0, 0, 1, 0x1a, 0xe1]), bytes([198, 51, 100, 4, 0x1a, 0xe2])]
        assert (answer[b"complete"], answer[b"incomplete"]) == (2, 2)
        assert get(tracker.url, "/announce", "info_hash=short")[b"failure reason"] == b"info_hash must be 20 bytes"
        # Announces and scrapes are GETs (BEP 3): other methods are a 405 naming the ones allowed.
        for method, path in (("TRACE", "/announce"), ("POST", "/scrape"), ("DELETE", "/announce")):
            refused = requests.request(method, f"{tracker.url}{path}?{scrape_query(info_hash)}", timeout=10)
            assert (refused.status_code, refused.headers["Allow"]) == (405, "GET, HEAD"), (method, path)
        head = requests.head(f"{tracker.url}/scrape?{scrape_query(info_hash)}", timeout=10)
        assert head.status_code == 200 and head.content == b"" and int(head.headers["Content-Length"]) > 0
        # Requests sent in one write are answered in order, the plain ones and the one that is not.
        heads = [f"GET /announce?{announce_query(info_hash, peer_id(4), 6884)} HTTP/1.1\r\nHost: t\r\n\r\n",
                 f"HEAD /scrape?{scrape_query(info_hash)} HTTP/1.1\r\nHost: t\r\n\r\n",
                 f"GET /scrape?{scrape_query(info_hash)} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"]
        answers = pipelined(tracker.port, heads)
        assert [status for status, _ in answers] == [b"HTTP/1.1 200 OK"] * 3
        assert bdecode(answers[0][1])[b"incomplete"] == 3 and answers[1][1] == b""
        assert set(bdecode(answers[2][1])[b"files"]) == {info_hash}  # its counts follow the swarm's flushes
        wait_for(lambda: get(tracker.url, "/scrape", scrape_query(info_hash))[b"files"][info_hash]
                 == {b"complete": 2, b"incomplete": 3, b"downloaded": 0}, message="scrape counts", timeout=30)
        # The rest is Flask's, with the raw query intact and the caller's address seen.
        assert requests.get(tracker.url + "/api/v1/videos/" + info_hash.hex(), timeout=10).json()["id"] == info_hash.hex()
        assert requests.get(tracker.url + "/api/v1/videos?q=%E2%9C%93", timeout=10).json()["videos"] == []
    finally:
        tracker.stop()
    assert "Traceback" not in tracker.logs()
