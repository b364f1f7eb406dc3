"""A real edge under gunicorn (two workers) with a real tracker, on loopback."""
import fcntl
import hashlib
import http.client
import os
import urllib.parse

import pytest
import requests

from protocol.manifest import parse_manifest
from tests.actions import announced, place, send, wait_for, wait_published
from tests.servers import start_edge, start_tracker


@pytest.fixture(scope="module")
def edge_network(tmp_path_factory):
    root = tmp_path_factory.mktemp("edge-network")
    tracker = start_tracker(root / "tracker")
    servers = [tracker]
    try:
        edge = start_edge(root / "edge", tracker.url, capacity="300MB", WEB_CONCURRENCY="2")
        servers.append(edge)
        wait_for(lambda: announced(edge), message="the edge announced")
        yield tracker, edge
    finally:
        for server in reversed(servers):
            server.stop()


def raw_get(base, path, headers=None):
    """GET exactly `path`, unnormalized (requests would resolve `..` before sending)."""
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.getheaders(), answer.read()
    finally:
        connection.close()


def test_one_worker_holds_the_background_lock(edge_network):
    _, edge = edge_network
    with open(os.path.join(edge.data_dir, "background.lock"), "rb") as f:
        with pytest.raises(BlockingIOError):
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_tickets_from_the_tracker_are_checked(edge_network, tmp_path):
    tracker, edge = edge_network
    clip = tmp_path / "small.mp4"
    clip.write_bytes(b"\0" * 2000)
    placement = place(tracker.url, clip, "ticket check")
    assert placement["upload_url"] == edge.url + "/api/v1/uploads"
    clip.write_bytes(b"\0" * 2001)  # one byte more than the ticket allows
    with open(clip, "rb") as f:
        answer = requests.post(placement["upload_url"], data={"ticket": placement["ticket"]},
                               files={"file": ("small.mp4", f)}, timeout=10)
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"
    forged = placement["ticket"][:-4] + ("AAAA" if not placement["ticket"].endswith("AAAA") else "BBBB")
    answer = requests.post(placement["upload_url"], data={"ticket": forged},
                           files={"file": ("small.mp4", b"\0" * 10)}, timeout=10)
    assert answer.status_code == 401, answer.text
    assert os.listdir(os.path.join(edge.data_dir, "uploads")) == []


def test_preflight_from_another_origin(edge_network):
    _, edge = edge_network
    answer = requests.options(edge.url + "/api/v1/uploads", timeout=5, headers={
        "Origin": "https://videos.example", "Access-Control-Request-Method": "POST"})
    assert answer.ok and answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]


def test_upload_through_placement_is_published_and_served(edge_network, small_clip):
    """Needs the real `segmenter.package` (ffmpeg): the whole path from placement to HLS."""
    tracker, edge = edge_network
    placement = place(tracker.url, small_clip, "Edge network clip")
    job = send(placement, small_clip)
    assert job["status_url"] == f"{edge.url}/api/v1/jobs/{job['job']}"
    done = wait_published(job["status_url"])
    video_id = done["video_id"]
    assert done["progress"] == 1.0
    base = f"{edge.url}/videos/{video_id}"

    raw = requests.get(f"{base}/manifest.json", timeout=5).content
    manifest = parse_manifest(raw, video_id)
    for name, entry in manifest["files"].items():
        data = requests.get(f"{base}/{name}", timeout=10).content
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
    segment = next(name for name in manifest["files"] if name.endswith(".m4s"))
    part = requests.get(f"{base}/{segment}", headers={"Range": "bytes=0-99"}, timeout=5)
    assert part.status_code == 206 and len(part.content) == 100
    assert part.headers["Content-Type"] == "video/iso.segment"
    assert part.headers["Cache-Control"] == "public, max-age=31536000, immutable"

    sources = requests.get(f"{tracker.url}/api/v1/videos/{video_id}/sources", timeout=5).json()
    assert edge.url in [source["url"] for source in sources["sources"]]
    status = requests.get(edge.url + "/api/v1/status", timeout=5).json()
    assert video_id in status["videos"] and status["jobs"]["published"] >= 1
    assert os.listdir(os.path.join(edge.data_dir, "uploads")) == []

    for path in (f"/videos/{video_id}/../../node.key", f"/videos/{video_id}/..%2f..%2fnode.key",
                 f"/videos/{video_id}/%2e%2e/%2e%2e/edge.db", f"/videos/{video_id}/master.m3u8%00",
                 f"/uploads/{job['job']}.upload", f"/videos/{video_id}/{job['job']}.upload"):
        code, _, body = raw_get(edge.url, path)
        assert code == 404 and b'"nothing here"' in body, path


@pytest.mark.parametrize("name, content, status", [
    ("notes.mp4", b"this is a text file, not a video\n" * 40, 422),
    ("playlist.mp4", b"#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n", 415),
])
def test_a_hostile_upload_fails_with_its_status_and_leaves_nothing(edge_network, tmp_path, name, content, status):
    tracker, edge = edge_network
    path = tmp_path / name
    path.write_bytes(content)
    job = send(place(tracker.url, path, "hostile"), path)
    final = wait_for(lambda: (lambda j: j["state"] in ("failed", "published") and j)(
        requests.get(job["status_url"], timeout=5).json()), timeout=60, message="the job to end")
    assert final["state"] == "failed" and final["error_status"] == status, final
    assert final["error"] and "video_id" not in final
    data = edge.data_dir
    assert os.listdir(os.path.join(data, "uploads")) == []
    assert [n for n in os.listdir(os.path.join(data, "staging")) if not n.endswith(".lock")] == []
    assert requests.get(edge.url + "/api/v1/status", timeout=5).json()["jobs"].get("running", 0) == 0
