"""`python -m tracker demo` against a real tracker and a small hand-written fake edge."""
import os
import signal
import subprocess
import sys
import threading
import uuid

import pytest
import requests
from flask import Flask, request
from werkzeug.serving import make_server

from protocol.tickets import decode_ticket
from tests.edges import Edge
from tests.servers import ROOT, start_tracker
from tracker.demo import clip_command


class FakeEdge:
    """Announces, checks the ticket of an upload, 'publishes' a small package at once and registers it;
    proofs and package files are answered by its `Edge` identity."""

    def __init__(self, tracker_url):
        self.tracker_url, self.uploads, self.jobs = tracker_url, [], {}
        app = Flask("fake_edge")
        app.add_url_rule("/api/v1/uploads", "upload", self.upload, methods=["POST"])
        app.add_url_rule("/api/v1/jobs/<job>", "job", lambda job: self.jobs[job])
        app.add_url_rule("/api/v1/proof", "proof", lambda: self.identity.answer_proof(request.json), methods=["POST"])
        app.add_url_rule("/videos/<video_id>/<name>", "file",
                         lambda video_id, name: self.identity.file(video_id, name) or ("", 404))
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.identity = Edge(f"http://127.0.0.1:{self.server.port}")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def announce(self):
        answer = requests.post(f"{self.tracker_url}/api/v1/nodes/announce", json=self.identity.announce_doc(),
                               timeout=10)
        assert answer.status_code == 200, answer.text
        self.tracker_id = answer.json()["tracker"]

    def upload(self):
        ticket = decode_ticket(request.form["ticket"], self.tracker_id)
        assert ticket["node"] == self.identity.id
        data = request.files["file"].read()
        self.uploads.append(data)
        video_id = self.identity.make_package()
        document = self.identity.registration_doc(ticket["upload"], video_id)
        registered = requests.post(f"{self.tracker_url}/api/v1/videos", json=document, timeout=10)
        assert registered.status_code == 201, registered.text
        job = uuid.uuid4().hex
        self.jobs[job] = {"job": job, "state": "published", "progress": 1, "video_id": video_id}
        return {"job": job, "status_url": f"{self.identity.url}/api/v1/jobs/{job}"}, 202

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def network(tmp_path):
    tracker = start_tracker(tmp_path / "tracker", TRACKER_NODE_TTL="300")
    edge = FakeEdge(tracker.url)
    yield tracker, edge
    edge.stop()
    tracker.stop()


@pytest.fixture
def start_demo():
    """Starts `python -m tracker demo`; whatever a failing test leaves running is killed after it."""
    started = []

    def start(tracker_url, data_dir):
        started.append(subprocess.Popen(
            [sys.executable, "-m", "tracker", "demo", tracker_url, "--data-dir", str(data_dir)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        return started[-1]

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def wait_running(proc, timeout=120):
    """The demo's output up to the line that says the network is running."""
    lines, running = [], threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Slipstream is running"):
                running.set()

    proc.reader = threading.Thread(target=read, daemon=True)
    proc.reader.start()
    if not running.wait(timeout):
        raise AssertionError(f"demo did not report running: {''.join(lines)}")
    return "".join(lines)


def stop_demo(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    proc.reader.join(timeout=10)  # it ends at the end of the output
    return proc.returncode


def test_clip_command_is_an_argument_list_with_video_and_sound():
    args = clip_command("/bin/ffmpeg", "/tmp/out.mp4")
    assert args[0] == "/bin/ffmpeg" and args[-1] == "/tmp/out.mp4"
    assert args[args.index("-c:v") + 1] == "libx264" and args[args.index("-c:a") + 1] == "aac"
    sources = [args[i + 1] for i, a in enumerate(args) if a == "-i"]
    assert sources == ["testsrc2=size=640x360:rate=30:duration=10",
                       "sine=frequency=440:sample_rate=48000:duration=10"]


def test_demo_uploads_once_then_keeps_running(network, start_demo, tmp_path):
    tracker, edge = network
    proc = start_demo(tracker.url, tmp_path / "demo")
    edge.announce()  # the network comes up while the demo waits for it
    assert f"Slipstream is running: {tracker.url}/" in wait_running(proc)
    assert proc.poll() is None, "the demo must keep running so that honcho keeps the network up"
    assert stop_demo(proc) == 0
    catalog = requests.get(f"{tracker.url}/api/v1/videos", timeout=10).json()
    assert [v["title"] for v in catalog["videos"]] == ["Slipstream demo"]
    assert len(edge.uploads) == 1 and edge.uploads[0][4:8] == b"ftyp"  # an mp4
    assert os.path.getsize(tmp_path / "demo" / "demo.mp4") == len(edge.uploads[0])

    proc = start_demo(tracker.url, tmp_path / "demo")
    assert "Slipstream is running" in wait_running(proc) and len(edge.uploads) == 1  # not uploaded twice
    assert stop_demo(proc) == 0
