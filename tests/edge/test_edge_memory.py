"""Small published files answered from memory by the edge's worker (edge/memory.py, edge/worker.py):
the same answers as gunicorn's thread worker, pipelined requests in order, keep-alive's timeout
kept, and nothing served from memory once the video is gone (deleted in another process, denied)."""
import hashlib
import os
import socket

import pytest
import requests

from edge.memory import SMALL_FILE, MemoryFiles
from tests.actions import wait_for
from tests.edge.package import PACKAGE, published_video, write_package
from tests.servers import Server, start_edge

SKIP_HEADERS = {"date", "server", "connection", "keep-alive"}
SMALL = ["master.m3u8", "360p.m3u8", "manifest.json", "poster.jpg", "captions.vtt", "360p_init.mp4"]


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    """The hand-made package on one data dir, served by the edge's worker (2 processes, keep-alive
    1 s) and by gunicorn's thread worker, neither with background threads."""
    data = tmp_path_factory.mktemp("edge")
    os.makedirs(data / "videos" / "staging")
    video_id, manifest = write_package(str(data / "videos" / "staging"))
    os.rename(data / "videos" / "staging", data / "videos" / video_id)
    env = {"EDGE_BACKGROUND": "0", "EDGE_TRACKER_URL": "http://127.0.0.1:9", "SLIPSTREAM_KEEPALIVE_TIMEOUT": "1"}
    servers = [Server("edge", data, env, workers=2), Server("edge", data, {**env, "GUNICORN_CMD_ARGS": "-k gthread"})]
    try:
        yield [server.start() for server in servers], video_id, manifest["files"]
    finally:
        for server in servers:
            server.stop()
        assert "Traceback" not in servers[0].logs()


def headers_of(answer):
    return {k.lower(): v for k, v in answer.headers.items() if k.lower() not in SKIP_HEADERS}


def test_answers_from_memory_match_the_thread_workers(edges):
    (ours, threads), video_id, files = edges
    for name in SMALL:
        for method in ("GET", "HEAD", "GET"):  # the second GET comes from memory for sure
            answers = [requests.request(method, f"{server.url}/videos/{video_id}/{name}", timeout=10)
                       for server in (ours, threads)]
            mine, theirs = answers
            assert (mine.status_code, headers_of(mine), mine.content) == \
                (200, headers_of(theirs), theirs.content), (method, name)
            assert "Date" in answers[0].headers
        # gunicorn names itself in Server; an answer from memory does not: this one came from there.
        assert "Server" not in answers[0].headers and "Server" in answers[1].headers
        if name in files:  # the manifest does not list itself
            assert hashlib.sha256(answers[0].content).hexdigest() == files[name]["sha256"]


def exchange(port, raw, answers):
    """Send `raw` at once on a new connection; read until `answers` HTTP answers have come."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(raw)
        received = b""
        while received.count(b"HTTP/1.1 ") < answers or not _complete(received):
            chunk = client.recv(65536)
            assert chunk, f"closed after {received!r}"
            received += chunk
    return received


def _complete(received):
    """Whether the last answer in `received` has its whole body (every answer here has a length)."""
    last = received.rfind(b"HTTP/1.1 ")
    head, _, body = received[last:].partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
    return b"\r\n\r\n" in received[last:] and len(body) >= length


def test_pipelined_requests_are_answered_in_order(edges):
    """Answers from memory, from sendfile (a Range request goes to Flask) and a 404, mixed on one
    connection in one packet, come back in the order asked."""
    (ours, _), video_id, _ = edges
    ask = [("GET", "360p.m3u8", ""), ("HEAD", "poster.jpg", ""), ("GET", "360p_00000.m4s", "Range: bytes=0-9\r\n"),
           ("GET", "master.m3u8", ""), ("GET", "nope.m3u8", ""), ("GET", "captions.vtt", "")]
    raw = b"".join(f"{m} /videos/{video_id}/{n} HTTP/1.1\r\nHost: edge\r\n{extra}\r\n".encode() for m, n, extra in ask)
    received = exchange(ours.port, raw, len(ask))
    statuses = [int(part[:3]) for part in received.split(b"HTTP/1.1 ")[1:]]
    assert statuses == [200, 200, 206, 200, 404, 200]
    for name in ("360p.m3u8", "master.m3u8", "captions.vtt"):
        assert PACKAGE[name] in received
    assert received.index(PACKAGE["360p.m3u8"]) < received.index(PACKAGE["master.m3u8"]) \
        < received.index(PACKAGE["captions.vtt"])


def test_an_idle_connection_is_closed_after_keep_alive(edges):
    """Answers from memory bypass gunicorn's connection loop; its keep-alive timeout still holds."""
    (ours, _), video_id, _ = edges
    with socket.create_connection(("127.0.0.1", ours.port), timeout=10) as client:
        for _ in range(2):
            client.sendall(f"GET /videos/{video_id}/360p.m3u8 HTTP/1.1\r\nHost: edge\r\n\r\n".encode())
            received = b""
            while not received.endswith(PACKAGE["360p.m3u8"]):
                received += client.recv(65536)
        # SLIPSTREAM_KEEPALIVE_TIMEOUT is 1 s: the edge closes the connection (recv gives b"").
        wait_for(lambda: client.recv(1) == b"", timeout=8, message="the idle connection closed")


def test_a_deleted_video_is_not_answered_from_memory(tmp_path):
    """Another process takes the video out of videos/ (as a removal, a hand-over or a deny does):
    the next request on the same kept-alive connection is a 404, not the copy in memory."""
    data = tmp_path / "edge"
    os.makedirs(data / "videos" / "staging")
    video_id, _ = write_package(str(data / "videos" / "staging"))
    os.rename(data / "videos" / "staging", data / "videos" / video_id)
    server = start_edge(data, "http://127.0.0.1:9", workers=1, EDGE_BACKGROUND="0")
    try:
        with requests.Session() as session:
            url = f"{server.url}/videos/{video_id}/360p.m3u8"
            assert [session.get(url, timeout=5).content for _ in range(3)] == [PACKAGE["360p.m3u8"]] * 3
            os.rename(data / "videos" / video_id, data / "gone")
            assert session.get(url, timeout=5).status_code == 404
            os.rename(data / "gone", data / "videos" / video_id)  # published again: served again
            assert session.get(url, timeout=5).content == PACKAGE["360p.m3u8"]
    finally:
        server.stop()


def test_memory_keeps_only_small_checked_files_within_its_budget(node, app):
    video_id = published_video(node)
    manifests = app.extensions["edge.manifests"]
    memory = MemoryFiles(node, manifests, budget=len(PACKAGE["poster.jpg"]) + len(PACKAGE["master.m3u8"]))
    assert memory.get(video_id, "poster.jpg").body == PACKAGE["poster.jpg"]
    assert memory.get(video_id, "master.m3u8").body == PACKAGE["master.m3u8"]
    assert memory.get(video_id, "360p.m3u8").body == PACKAGE["360p.m3u8"]  # the oldest made room
    assert memory.used <= memory.budget and (video_id, "poster.jpg") not in memory._copies
    assert memory.get(video_id, "source.mp4") is None and memory.get("0" * 40, "master.m3u8") is None
    assert memory.find(f"/videos/{video_id}/master.m3u8".encode()).body == PACKAGE["master.m3u8"]
    assert memory.find(f"/videos/{video_id}/x/master.m3u8".encode()) is None


def test_memory_refuses_large_and_tampered_files(node, app):
    video_id = published_video(node)
    manifests = app.extensions["edge.manifests"]
    memory = MemoryFiles(node, manifests, budget=10 * SMALL_FILE)
    with open(os.path.join(node.video_path(video_id), "captions.vtt"), "r+b") as f:
        f.write(b"X")  # same size, other bytes
    assert memory.get(video_id, "captions.vtt") is None
    assert memory.get(video_id, "360p_00000.m4s") is not None  # 10 KB: small enough
    assert MemoryFiles(node, manifests, budget=1000).get(video_id, "360p_00000.m4s") is None  # over the budget
    assert MemoryFiles(node, manifests, budget=0).get(video_id, "master.m3u8") is None  # off
