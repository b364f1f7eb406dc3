"""A home edge behind a real NAT, the edge's side of issue 18 without a browser: its copy, uploaded
from home, is listed as a `webrtc` source by the https tracker (through nginx, the signalling socket
included), and a viewer on the public side (aiortc, tests/webrtc/viewer.py) fetches its files over a
data channel that runs directly between the viewer and the home: the tracker's own interface carries
a small part of them."""
import json
import sys

import pytest

from tests.actions import wait_for
from tests.netns.conftest import EDGE_PORT
from tests.netns.https import trusting
from tests.servers import start_edge

UPLOAD = """import json, sys
from tests.actions import upload, wait_published
placement, job = upload("https://tracker.test", sys.argv[1], "Home clip")
print(json.dumps({"node": placement["node"], **wait_published(job["status_url"], timeout=600)}))"""

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


def python_inside(namespace, script, *args, ca_file):
    """A Python program run inside `namespace` from the worktree (names from its hosts file; https
    trusted through the test CA), its last output line as JSON."""
    done = namespace.run("env", *(f"{name}={value}" for name, value in trusting(ca_file).items()),
                         sys.executable, "-c", script, *args)
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def home_video(internet, public_tracker, small_clip, tmp_path_factory):
    """A video only the home edge holds: uploaded from home to an edge on the public side (a home edge
    takes no uploads: nobody outside can reach its URL), copied by the home edge from there as the
    tracker's second replica, then that public edge stopped."""
    ca = public_tracker.proxy.ca_file
    home = start_edge(tmp_path_factory.mktemp("home-edge"), public_tracker.proxy.url, port=EDGE_PORT,
                      namespace=internet["home1"], **trusting(ca), EDGE_UPNP="0")
    public = start_edge(tmp_path_factory.mktemp("public-edge"), public_tracker.proxy.url, port=8002,
                        namespace=internet["public"], **trusting(ca))
    try:
        for edge in (home, public):
            wait_for(lambda edge=edge: edge.get("/api/v1/status", timeout=5).json().get("tracker"), timeout=60,
                     message="the edges' announces answered (the home edge's once its socket is proven)")
        done = python_inside(internet["home1"], UPLOAD, str(small_clip), ca_file=ca)
        assert done["node"] == public.get("/api/v1/status", timeout=5).json()["node"]
        wait_for(lambda: done["video_id"] in home.get("/api/v1/status", timeout=5).json().get("videos", []),
                 timeout=120, message="the home edge's copy")
        public.stop()
        yield {"edge": home, "video_id": done["video_id"], "node": home.get("/api/v1/status", timeout=5).json()["node"]}
    finally:
        public.stop()
        home.stop()


def test_a_viewer_fetches_a_home_edges_files_over_a_direct_data_channel(internet, public_tracker, home_video):
    public = internet["public"]
    before = public.traffic("br0")
    seen = python_inside(internet["viewer"], VIEW, home_video["video_id"], ca_file=public_tracker.proxy.ca_file)
    after = public.traffic("br0")
    assert seen["source"]["reach"] == "webrtc" and seen["source"]["node"] == home_video["node"]
    assert seen["ice_servers"] == [{"urls": ["stun:tracker.test:3478"]}]
    assert seen["checked"] and all(seen["checked"].values()), seen["checked"]
    carried = (after[0] - before[0]) + (after[1] - before[1])
    assert carried < seen["bytes"] / 10, (carried, seen["bytes"])  # measured: 16 KB of 685 KB
