"""A home edge (README.md, "Home edges"): a real edge whose URL nobody can open, a real tracker with two
workers, and a viewer (aiortc, as tests/webrtc/viewer.py) that looks the video up, connects through the
tracker and fetches the package's files over a data channel, checked against the manifest."""
import asyncio
import hashlib

import pytest
import requests

from protocol.datachannel import gather_on
from protocol.manifest import parse_manifest
from tests.actions import announced, place, send, wait_for, wait_published
from tests.servers import free_port, start_edge, start_tracker
from tests.webrtc.viewer import connect, run, sources

LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="module")
def home(tmp_path_factory, small_clip):
    """A video uploaded to an edge while it was reachable, then the same edge restarted behind a URL
    that nobody listens on: the tracker can only reach it through its signalling socket."""
    gather_on([LOOPBACK])  # this test process's ICE agent, like the servers', gathers on loopback only
    root = tmp_path_factory.mktemp("home")
    stun = free_port()
    tracker = start_tracker(root / "tracker", WEB_CONCURRENCY="2", TRACKER_STUN_PORT=str(stun),
                            TRACKER_STUN_HOST=LOOPBACK, SLIPSTREAM_ICE_ADDRESSES=LOOPBACK,
                            TRACKER_RATE_CONNECT="30", TRACKER_RATE_CONNECT_BURST="40")
    servers = [tracker]
    try:
        edge = start_edge(root / "edge", tracker.url, SLIPSTREAM_ICE_ADDRESSES=LOOPBACK)
        servers.append(edge)
        wait_for(lambda: announced(edge), message="the edge announced")
        job = send(place(tracker.url, small_clip, "Home clip"), small_clip)
        video_id = wait_published(job["status_url"])["video_id"]
        edge.stop()
        unprovable = f"http://{LOOPBACK}:{free_port()}"
        edge = start_edge(root / "edge", tracker.url, SLIPSTREAM_ICE_ADDRESSES=LOOPBACK,
                          SLIPSTREAM_PUBLIC_URL=unprovable)
        servers.append(edge)
        found = wait_for(lambda: webrtc_source(tracker.url, video_id), timeout=60, message="a webrtc source")
        yield {"tracker": tracker, "edge": edge, "video_id": video_id, "source": found, "stun": stun,
               "url": unprovable}
    finally:
        for server in reversed(servers):
            server.stop()


def webrtc_source(tracker_url, video_id):
    answer = sources(tracker_url, video_id)
    return next((s for s in answer["sources"] if s["reach"] == "webrtc"), None)


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


def sent_bytes(edge):
    text = requests.get(edge.url + "/metrics", timeout=5).text
    line = next(line for line in text.splitlines() if line.startswith("edge_webrtc_sent_bytes_total"))
    return float(line.split()[-1])
