"""What a website does with Slipstream's public API, as plain HTTP calls."""
import os
import time

import requests


def place(tracker_url, path, title, **fields):
    """Ask the tracker where to upload `path`; return the placement answer."""
    body = {"title": title, "size": os.path.getsize(path), **fields}
    answer = requests.post(f"{tracker_url}/api/v1/uploads", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def send(placement, path):
    """Upload `path` to the edge a placement chose; return the job answer."""
    with open(path, "rb") as f:
        answer = requests.post(placement["upload_url"], data={"ticket": placement["ticket"]},
                               files={"file": (os.path.basename(path), f, "video/mp4")}, timeout=60)
    assert answer.status_code == 202, answer.text
    return answer.json()


def upload(tracker_url, path, title, **fields):
    """Placement then upload, as the website does: returns (placement, job answer)."""
    placement = place(tracker_url, path, title, **fields)
    return placement, send(placement, path)


def wait_published(status_url, timeout=180):
    """Poll a job until it is published; fail with its error if it fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = requests.get(status_url, timeout=10).json()
        assert job["state"] != "failed", job
        if job["state"] == "published":
            return job
        time.sleep(0.3)
    raise AssertionError(f"job not published after {timeout} s: {job}")


def wait_for(predicate, timeout=20, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


def announced(edge):
    """True once an edge has heard back from its tracker (it then knows the tracker's key)."""
    return bool(requests.get(edge.url + "/api/v1/status", timeout=5).json().get("tracker"))


def holds(edge, video_id):
    """True if an edge says it holds `video_id`."""
    return video_id in requests.get(edge.url + "/api/v1/status", timeout=5).json()["videos"]
