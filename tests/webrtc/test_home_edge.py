"""A home edge (README.md, "Home edges"; tests/webrtc/home.py): a real edge whose URL nobody can open, a
real tracker with two workers (the relay of offers goes through the database to whichever worker holds
the edge's socket), and a viewer (aiortc, as tests/webrtc/viewer.py) that looks the video up, connects through the
tracker and fetches the package's files over a data channel, checked against the manifest."""
import asyncio
import hashlib
import json
import sqlite3
import time
import uuid

import nacl.signing
import pytest
import requests
import websockets.sync.client
from aiortc import RTCPeerConnection

from protocol.manifest import parse_manifest
from protocol.signing import node_id, sign
from tests.actions import wait_for
from tests.webrtc.home import LOOPBACK, Home, webrtc_source
from tests.webrtc.viewer import connect, post_connect, run, sources


@pytest.fixture(scope="module")
def home(tmp_path_factory, small_clip):
    started = Home()
    try:
        started.start(tmp_path_factory.mktemp("home"), small_clip,
                      TRACKER_RATE_CONNECT="30", TRACKER_RATE_CONNECT_BURST="40",
                      # Audits every 2 s on average: the copy stays listed only if they pass over the channel.
                      TRACKER_AUDIT_INTERVAL="2")
        yield {"tracker": started.tracker, "edge": started.edge, "video_id": started.video_id,
               "stun": started.stun, "url": started.url, "http_source": started.http_source}
    finally:
        started.stop()


def test_the_tracker_audits_the_home_copy_over_a_data_channel(home):
    """No viewer has connected yet: every byte the edge sent went to the tracker's auditor."""
    wait_for(lambda: sent_bytes(home["edge"]) > 0, message="an audit over the data channel")
    assert webrtc_source(home["tracker"].url, home["video_id"]) is not None


def test_a_plain_http_edge_with_a_socket_can_also_be_connected_through_the_tracker(home):
    """What an https page needs of a plain-http edge (mixed content): recorded while the edge's URL was open."""
    source = home["http_source"]
    assert source["connect"] == f"{home['tracker'].url}/api/v1/videos/{home['video_id']}/connect"
    assert source["token"] and source["url"] != home["url"]


def test_the_unprovable_edge_is_listed_as_webrtc(home):
    answer = sources(home["tracker"].url, home["video_id"])
    [source] = answer["sources"]
    assert source["url"] == home["url"]
    assert source["connect"] == f"{home['tracker'].url}/api/v1/videos/{home['video_id']}/connect"
    assert answer["ice_servers"] == [{"urls": [f"stun:{LOOPBACK}:{home['stun']}"]}]


def test_a_viewer_fetches_the_package_over_a_data_channel(home):
    video_id, tracker = home["video_id"], home["tracker"]
    answer = sources(tracker.url, video_id)

    async def fetch():
        peer, channel = await connect(answer["sources"][0], video_id, answer["ice_servers"])
        try:
            manifest_status, _, raw = await channel.get("manifest.json")
            manifest = parse_manifest(raw, video_id)
            segment = next(name for name in sorted(manifest["files"]) if name.endswith(".m4s"))
            # Side by side, as the player keeps several requests in flight.
            master, whole, part = await asyncio.gather(
                channel.get("master.m3u8"), channel.get(segment), channel.get(segment, (100, 1099)))
            return manifest_status, manifest, segment, master, whole, part
        finally:
            await peer.close()

    manifest_status, manifest, segment, master, whole, part = run(fetch())
    files = manifest["files"]
    assert manifest_status == 200
    assert master[0] == 200 and hashlib.sha256(master[2]).hexdigest() == files["master.m3u8"]["sha256"]
    assert whole[0] == 200 and whole[1] == files[segment]["size"]
    assert hashlib.sha256(whole[2]).hexdigest() == files[segment]["sha256"]
    assert part[0] == 206 and part[1] == files[segment]["size"] and part[2] == whole[2][100:1100]
    metrics = wait_for(lambda: sent_bytes(home["edge"]) >= len(whole[2]) + 1000 and sent_bytes(home["edge"]),
                       message="the edge counted the bytes it sent")
    assert metrics >= len(whole[2]) + len(part[2]) + len(master[2])


def test_bytes_a_home_edge_served_earn_its_share(home):
    """Its copy passed audits over the data channel, so a donation's `served` credits it like any edge."""
    source = webrtc_source(home["tracker"].url, home["video_id"])
    gift = requests.post(f"{home['tracker'].url}/api/v1/donations", headers={"Idempotency-Key": uuid.uuid4().hex},
                         json={"video_id": home["video_id"], "amount": 1000, "currency": "EUR",
                               "served": {source["node"]: 100000}, "found_by": home["tracker"].url}, timeout=10)
    assert gift.status_code == 201, gift.text
    assert gift.json()["uncredited"] == []
    assert any(p["account"] == f"node:{source['node']}" and p["amount"] > 0 for p in gift.json()["postings"])


def sent_bytes(edge):
    text = requests.get(edge.url + "/metrics", timeout=5).text
    line = next(line for line in text.splitlines() if line.startswith("edge_webrtc_sent_bytes_total"))
    return float(line.split()[-1])


def fetch_over_channel(home, *requests_):
    """Connect as a viewer and send `requests_` ((path, range) pairs) side by side; their answers."""
    answer = sources(home["tracker"].url, home["video_id"])

    async def fetch():
        peer, channel = await connect(answer["sources"][0], home["video_id"], answer["ice_servers"])
        try:
            return await asyncio.gather(*(channel.get(path, byte_range) for path, byte_range in requests_))
        finally:
            await peer.close()
    return run(fetch())


def test_the_channel_serves_only_the_packages_files(home):
    answers = fetch_over_channel(home, ("../manifest.json", None), ("videos/manifest.json", None),
                                 ("..", None), ("not-listed.m4s", None), ("manifest.json", (10**9, 10**9 + 5)),
                                 ("master.m3u8", None))
    assert [status for status, _, _ in answers] == [400, 400, 400, 404, 416, 200]
    assert answers[4][1] > 0 and answers[4][2] == b""  # a 416 says the size, sends nothing


def raw_offer():
    """A viewer's offer, every candidate gathered, without going on to connect."""
    async def make():
        peer = RTCPeerConnection()
        peer.createDataChannel("slipstream")
        await peer.setLocalDescription(await peer.createOffer())
        sdp = peer.localDescription.sdp
        await peer.close()
        return sdp
    return run(make())


def test_connect_refusals(home):
    source = webrtc_source(home["tracker"].url, home["video_id"])
    sdp = raw_offer()
    forged = post_connect(source, home["video_id"], sdp, token=source["token"][:-4] + "AAAA")
    assert forged.status_code == 403 and forged.json()["error"] == "invalid_token"
    other_video = requests.post(source["connect"].replace(home["video_id"], "1" * 40), timeout=10, json={
        "node": source["node"], "token": source["token"], "offer": {"type": "offer", "sdp": sdp}})
    assert other_video.status_code == 403 and other_video.json()["error"] == "invalid_token"
    unknown = post_connect(source, home["video_id"], sdp, node="ab" * 32)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_node"
    not_sdp = post_connect(source, home["video_id"], "hello")
    assert not_sdp.status_code == 400 and not_sdp.json()["error"] == "invalid_offer"
    huge = post_connect(source, home["video_id"], "v=0\r\n" + "a=x\r\n" * 5000)
    assert huge.status_code == 400 and huge.json()["error"] == "invalid_offer"
    assert post_connect(source, home["video_id"], sdp).status_code == 200  # the same offer, untouched


def test_the_edge_refuses_a_video_it_does_not_hold(home):
    """An offer the tracker relays for a video the edge does not hold (the tracker believes it does, or
    lies) is refused by the edge itself: written straight into the relay's table."""
    source = webrtc_source(home["tracker"].url, home["video_id"])
    signal_id = uuid.uuid4().hex
    database = sqlite3.connect(str(home["tracker"].data_dir) + "/tracker.db", timeout=10)
    with database:
        database.execute("INSERT INTO signal (id, node, video, offer, created) VALUES (?, ?, ?, ?, ?)",
                         (signal_id, source["node"], "2" * 40, raw_offer(), time.time()))
    refusal = wait_for(lambda: database.execute("SELECT refusal FROM signal WHERE id = ?", (signal_id,))
                       .fetchone()[0], message="the edge's refusal")
    database.close()
    assert refusal == "video_not_held"


def test_a_forged_hello_closes_the_socket(home):
    url = home["tracker"].url.replace("http://", "ws://") + "/api/v1/nodes/signal"
    honest, other = nacl.signing.SigningKey.generate(), nacl.signing.SigningKey.generate()
    with websockets.sync.client.connect(url, open_timeout=10) as socket:
        tracker_id = socket.response.headers["Slipstream-Tracker"]
    payload = {"node": node_id(honest), "tracker": tracker_id, "timestamp": time.time(), "kind": "signal"}
    for hello in ({**sign(payload, other), "payload": payload},  # signed by another key
                  sign({**payload, "tracker": "cd" * 32}, honest),  # for another tracker
                  {"hello": "there"}):
        with websockets.sync.client.connect(url, open_timeout=10) as socket:
            socket.send(json.dumps(hello))
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                socket.recv(timeout=15)
            assert closed.value.rcvd.code == 4401


def test_an_edge_without_its_socket_is_504(home):
    source = webrtc_source(home["tracker"].url, home["video_id"])
    home["edge"].stop()
    sdp = raw_offer()

    def refused():
        answer = post_connect(source, home["video_id"], sdp)
        return (answer.status_code, answer.json().get("error")) if answer.status_code != 200 else None
    assert wait_for(refused, timeout=30, message="a refused connect") == (504, "edge_unreachable")


def test_an_offer_flood_is_429(home):
    """Last: it empties this address's buckets (40 at once per worker, two workers)."""
    source = {"node": "ab" * 32, "token": "x", "connect": f"{home['tracker'].url}/api/v1/videos/{home['video_id']}/connect"}
    statuses = [post_connect(source, home["video_id"], "v=0").status_code for _ in range(120)]
    assert 429 in statuses and set(statuses) <= {404, 429}
