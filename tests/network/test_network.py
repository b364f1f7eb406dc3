"""The first slice end to end: a real tracker and two real edges under gunicorn on loopback."""
import hashlib

import m3u8
import requests

from protocol.manifest import parse_manifest
from tests.actions import announced, place, send, wait_for, wait_published
from tests.clips import make_clip
from tests.servers import start_edge, start_tracker


def edge_url(network, node):
    status = {e.url: requests.get(e.url + "/api/v1/status", timeout=5).json() for e in network.edges}
    return next(url for url, s in status.items() if s["node"] == node)


def test_upload_is_published_on_the_placed_edge(network, published):
    base = edge_url(network, published["placement"]["node"])
    assert published["placement"]["upload_url"] == base + "/api/v1/uploads"
    status = requests.get(base + "/api/v1/status", timeout=5).json()
    assert published["video_id"] in status["videos"]


def test_master_playlist_lists_the_ladder(network, published):
    base = edge_url(network, published["placement"]["node"])
    vid = published["video_id"]
    answer = requests.get(f"{base}/videos/{vid}/master.m3u8", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
    master = m3u8.loads(answer.text)
    assert master.is_variant
    heights = sorted(p.stream_info.resolution[1] for p in master.playlists)
    assert heights[-1] == 720 and len(heights) >= 2, heights
    for playlist in master.playlists:
        media = m3u8.loads(requests.get(f"{base}/videos/{vid}/{playlist.uri}", timeout=5).text)
        assert media.segments and media.is_endlist


def test_every_manifest_file_hashes_to_its_record(network, published):
    base = edge_url(network, published["placement"]["node"])
    vid = published["video_id"]
    raw = requests.get(f"{base}/videos/{vid}/manifest.json", timeout=5).content
    assert hashlib.sha256(raw).digest()[:20].hex() == vid
    manifest = parse_manifest(raw, vid)
    assert "master.m3u8" in manifest["files"] and manifest["poster"] in manifest["files"]
    for name, entry in manifest["files"].items():
        data = requests.get(f"{base}/videos/{vid}/{name}", timeout=10).content
        assert len(data) == entry["size"], name
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name


def test_sources_lookup_returns_the_edge(network, published):
    vid = published["video_id"]
    answer = requests.get(f"{network.tracker.url}/api/v1/videos/{vid}/sources", timeout=5).json()
    assert answer["video_id"] == vid
    assert answer["found_by"] == network.tracker.url
    assert published["placement"]["node"] in [s["node"] for s in answer["sources"]]
    base = edge_url(network, published["placement"]["node"])
    assert base in [s["url"] for s in answer["sources"]]


def test_catalog_search_finds_the_title(network, published):
    found = requests.get(f"{network.tracker.url}/api/v1/videos", params={"q": "Integration"}, timeout=5).json()
    assert [v["id"] for v in found["videos"]] == [published["video_id"]]
    item = found["videos"][0]
    assert item["title"] == "Integration clip" and item["creator"] == "tester"
    assert item["poster_url"].endswith(f"/videos/{published['video_id']}/poster.jpg")
    assert requests.get(item["poster_url"], timeout=5).headers["Content-Type"] == "image/jpeg"
    missing = requests.get(f"{network.tracker.url}/api/v1/videos", params={"q": "no such words"}, timeout=5)
    assert missing.json()["videos"] == []


def test_unknown_video_and_bad_ids_get_json_errors(network):
    unknown = requests.get(f"{network.tracker.url}/api/v1/videos/{'0' * 40}/sources", timeout=5)
    assert unknown.status_code == 404 and set(unknown.json()) == {"error", "message"}
    for edge in network.edges:
        answer = requests.get(f"{edge.url}/videos/{'0' * 40}/master.m3u8", timeout=5)
        assert answer.status_code == 404 and "error" in answer.json()


def test_second_upload_lands_on_an_edge_with_free_space(tmp_path):
    """A small edge takes one upload at most; every other placement goes to the edge with room."""
    clip = make_clip(tmp_path / "clip.mp4", seconds=3, width=320, height=240)
    size = clip.stat().st_size
    tracker = start_tracker(tmp_path / "tracker")
    servers = [tracker]
    try:
        small = start_edge(tmp_path / "small", tracker.url, capacity=str(int(size * 1.5)))
        servers.append(small)
        big = start_edge(tmp_path / "big", tracker.url, capacity="500MB")
        servers.append(big)
        nodes = {requests.get(s.url + "/api/v1/status", timeout=5).json()["node"]: s for s in (small, big)}
        wait_for(lambda: all(announced(s) for s in (small, big)), message="both edges announced")
        placements = [place(tracker.url, clip, f"clip {i}") for i in range(4)]
        landed = [nodes[p["node"]] for p in placements]
        assert landed.count(small) <= 1, "the small edge was given more than its capacity"
        jobs = [send(p, clip) for p in placements[:2]]
        videos = [wait_published(j["status_url"])["video_id"] for j in jobs]
        assert len(videos) == 2
    finally:
        for server in reversed(servers):
            server.stop()

