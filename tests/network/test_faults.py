"""Real faults on real servers: a tracker killed in the middle of an upload, an edge killed in the
middle of a transcode. Each is stopped with SIGKILL (its whole process group: gunicorn's master,
its workers, ffmpeg) and started again on the same port and data dir, as an operator's supervisor
would. (A tracker losing its PostgreSQL connections: tests/tracker/test_database_faults.py.)"""
import http.client
import json
import os
import secrets
import urllib.parse

import pytest
import requests

from tests.actions import announced, place, wait_for, wait_published
from tests.servers import start_edge, start_tracker

STAGED = 120  # seconds a transcode may take to reach a state on a busy 2-core machine


def job_status(job):
    return requests.get(job["status_url"], timeout=10).json()


def send_with_pause(placement, path, pause):
    """Upload `path` as the website's form does, calling `pause()` once the first 64 KiB of the file
    are sent and the rest is not; return the job answer."""
    boundary = secrets.token_hex(16)
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"ticket\"\r\n\r\n{placement['ticket']}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    with open(path, "rb") as f:
        data = f.read()
    url = urllib.parse.urlsplit(placement["upload_url"])
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.putrequest("POST", url.path)
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(len(head) + len(data) + len(tail)))
        connection.endheaders()
        connection.send(head + data[:65536])
        pause()
        connection.send(data[65536:] + tail)
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    assert answer.status == 202, body
    return json.loads(body)


def waiting_for_the_tracker(job):
    """The job's answer once its package is published on the edge and it waits for the tracker."""
    status = job_status(job)
    return status if status.get("stage") == "registering" and "message" in status else None


def plays_from(tracker, edge, video_id):
    """The tracker lists `edge` as a source of `video_id`, and the edge serves its stream."""
    sources = requests.get(f"{tracker.url}/api/v1/videos/{video_id}/sources", timeout=10).json()
    if edge.url not in [s["url"] for s in sources.get("sources", [])]:
        return False
    master = requests.get(f"{edge.url}/videos/{video_id}/master.m3u8", timeout=10)
    return master.status_code == 200 and master.text.startswith("#EXTM3U")


@pytest.fixture
def pair(tmp_path):
    """A tracker and one edge that has announced to it, for one test: each test kills one of them."""
    tracker = start_tracker(tmp_path / "tracker")
    servers = [tracker]
    try:
        servers.append(start_edge(tmp_path / "edge", tracker.url))
        wait_for(lambda: announced(servers[1]), message="the edge announced")
        yield servers
    finally:
        for server in reversed(servers):
            server.stop()


def test_a_tracker_killed_mid_upload_registers_the_video_once_it_is_back(pair, small_clip):
    tracker, edge = pair
    placement = place(tracker.url, small_clip, "Survives a tracker restart")
    job = send_with_pause(placement, small_clip, tracker.kill)
    waiting = wait_for(lambda: waiting_for_the_tracker(job), timeout=STAGED, message="the job waiting")
    assert waiting["state"] == "running" and "waiting for the tracker" in waiting["message"], waiting
    assert waiting["video_id"] in requests.get(edge.url + "/api/v1/status", timeout=10).json()["videos"]
    tracker.start()  # the same port, data dir and key: the edge finds it where it was
    done = wait_published(job["status_url"], timeout=STAGED)
    assert done["video_id"] == waiting["video_id"]
    wait_for(lambda: plays_from(tracker, edge, done["video_id"]), timeout=30, message="the video listed and playing")
    # Registered once: the catalog has the video once, with the placement's title.
    catalog = requests.get(f"{tracker.url}/api/v1/videos", timeout=10).json()
    assert [(v["id"], v["title"]) for v in catalog["videos"]] == [(done["video_id"], "Survives a tracker restart")]


def test_an_edge_killed_mid_transcode_resumes_the_job_and_keeps_nothing_extra(pair, clip_720p):
    tracker, edge = pair
    placement = place(tracker.url, clip_720p, "Survives an edge restart")
    with open(clip_720p, "rb") as f:
        job = requests.post(placement["upload_url"], data={"ticket": placement["ticket"]},
                            files={"file": ("clip.mp4", f, "video/mp4")}, timeout=60).json()
    staging = os.path.join(edge.data_dir, "staging", job["job"])
    wait_for(lambda: job_status(job)["state"] == "running" and os.path.isdir(staging) and os.listdir(staging),
             timeout=STAGED, interval=0.05, message="the transcode writing its package")
    edge.kill()
    assert os.listdir(staging), "the kill left a half-written package"
    assert os.path.exists(os.path.join(edge.data_dir, "uploads", f"{job['job']}.upload"))
    edge.start()
    done = wait_published(job["status_url"], timeout=STAGED)
    wait_for(lambda: plays_from(tracker, edge, done["video_id"]), timeout=30, message="the video listed and playing")
    status = requests.get(edge.url + "/api/v1/status", timeout=10).json()
    assert status["videos"] == [done["video_id"]] and status["reserved"] == 0
    assert status["jobs"] == {"queued": 0, "running": 0, "published": 1, "failed": 0}
    # What the killed run left is gone: its package dir, its upload; only the video is kept.
    assert [n for n in os.listdir(os.path.join(edge.data_dir, "staging")) if not n.endswith(".lock")] == []
    assert os.listdir(os.path.join(edge.data_dir, "uploads")) == []
    assert status["used"] == tree_size(os.path.join(edge.data_dir, "videos"))


def tree_size(root):
    return sum(os.path.getsize(os.path.join(folder, name)) for folder, _, names in os.walk(root) for name in names)
