"""A home edge behind a real NAT, the edge's side of issue 18 without a browser: its copy, uploaded
from home, is listed as a `webrtc` source by the https tracker (through nginx, the signalling socket
included), and a viewer on the public side (aiortc, tests/webrtc/viewer.py) fetches its files over a
data channel that runs directly between the viewer and the home: the tracker's own interface carries
a small part of them."""
import pytest

from tests.netns.homes import HomeEdges, python_inside

VIEW = """import asyncio, hashlib, json, sys
from protocol.manifest import parse_manifest
from tests.webrtc.viewer import connect, sources
video_id = sys.argv[1]
answer = sources("https://tracker.test", video_id)

async def fetch():
    [source] = answer["sources"]
    peer, channel = await connect(source, video_id, answer["ice_servers"])
    try:
        manifest = parse_manifest((await channel.get("manifest.json"))[2], video_id)
        checked = {}
        for name in sorted(manifest["files"]):
            status, size, body = await channel.get(name)
            checked[name] = status == 200 and hashlib.sha256(body).hexdigest() == manifest["files"][name]["sha256"]
        return {"source": source, "ice_servers": answer["ice_servers"], "checked": checked,
                "bytes": sum(manifest["files"][name]["size"] for name in checked)}
    finally:
        await peer.close()

print(json.dumps(asyncio.run(fetch())))"""


@pytest.fixture(scope="module")
def home_video(internet, public_tracker, small_clip, tmp_path_factory):
    homes = HomeEdges(internet, public_tracker, small_clip, tmp_path_factory.mktemp("edges"), ("home1",))
    yield homes
    homes.stop()


def test_a_viewer_fetches_a_home_edges_files_over_a_direct_data_channel(internet, public_tracker, home_video):
    public = internet["public"]
    before = public.traffic("br0")
    seen = python_inside(internet["viewer"], VIEW, home_video.video_id, ca_file=public_tracker.proxy.ca_file)
    after = public.traffic("br0")
    assert seen["source"]["reach"] == "webrtc" and seen["source"]["node"] == home_video.nodes["home1"]
    assert seen["ice_servers"] == [{"urls": ["stun:tracker.test:3478"]}]
    assert seen["checked"] and all(seen["checked"].values()), seen["checked"]
    carried = (after[0] - before[0]) + (after[1] - before[1])
    assert carried < seen["bytes"] / 10, (carried, seen["bytes"])  # measured: 16 KB of 685 KB
