"""The edge's gunicorn worker (edge/worker.py): published files go out from the event loop with
sendfile, everything else through Flask; answers are the same as under gunicorn's thread worker."""
import hashlib
import http.client
import socket
import struct

import pytest
import requests

from tests.actions import holds
from tests.servers import Server

SKIP_HEADERS = {"date", "server", "connection", "keep-alive"}


@pytest.fixture(scope="module")
def package(network, published):
    """The published video's edge, id and manifest files."""
    video_id = published["video_id"]
    edge = next(e for e in network.edges if holds(e, video_id))
    files = requests.get(f"{edge.url}/videos/{video_id}/manifest.json", timeout=5).json()["files"]
    return edge, video_id, files


@pytest.fixture(scope="module")
def twins(package):
    """Two more edge processes on the published edge's data dir, without background threads: the
    edge's own worker (with an access log) and gunicorn's thread worker (`-k gthread`)."""
    edge = package[0]
    quiet = {**edge.env, "EDGE_BACKGROUND": "0"}
    servers = [Server("edge", edge.data_dir, {**quiet, "GUNICORN_ACCESSLOG": "-"}, workers=2),
               Server("edge", edge.data_dir, {**quiet, "GUNICORN_CMD_ARGS": "-k gthread"}, workers=2)]
    try:
        yield [server.start() for server in servers]
    finally:
        for server in servers:
            server.stop()
    assert "Traceback" not in edge.logs()


def test_one_connection_carries_many_answers(package):
    edge, video_id, files = package
    segment = max((n for n in files if n.endswith(".m4s")), key=lambda n: files[n]["size"])
    connection = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=10)
    try:
        for method, name in (("GET", segment), ("HEAD", segment), ("GET", "master.m3u8"), ("GET", segment)):
            connection.request(method, f"/videos/{video_id}/{name}")
            if method == "GET" and name == segment:
                first = connection.sock
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200 and int(response.headers["Content-Length"]) == files[name]["size"]
            assert body == b"" if method == "HEAD" else hashlib.sha256(body).hexdigest() == files[name]["sha256"]
            assert response.headers["Connection"] != "close"
        assert connection.sock is first  # kept alive: no reconnect in between
    finally:
        connection.close()


def test_both_worker_classes_answer_alike(package, twins):
    """Whole files, HEAD, Range, conditional and refused requests: same status, headers and bytes."""
    _, video_id, files = package
    segment = next(n for n in files if n.endswith(".m4s"))
    etag = f'"{files[segment]["sha256"]}"'
    cases = [("GET", segment, {}), ("HEAD", segment, {}), ("GET", "master.m3u8", {}),
             ("GET", segment, {"Range": "bytes=10-99"}), ("GET", segment, {"If-None-Match": etag}),
             ("GET", "source.mp4", {}), ("GET", "..%2fedge.db", {}), ("POST", segment, {})]
    for method, name, headers in cases:
        answers = [requests.request(method, f"{server.url}/videos/{video_id}/{name}", headers=headers, timeout=10)
                   for server in twins]
        ours, threads = [(a.status_code, headers_of(a), a.content) for a in answers]
        assert ours == threads, (method, name, headers)
    assert answers[0].status_code == 405
    log = twins[0].logs()
    assert f'"GET /videos/{video_id}/{segment} HTTP/1.1" 200 {files[segment]["size"]}' in log


def headers_of(answer):
    """The headers to compare, Allow's methods in order (Werkzeug lists them from a set)."""
    headers = {k.lower(): v for k, v in answer.headers.items() if k.lower() not in SKIP_HEADERS}
    if "allow" in headers:
        headers["allow"] = sorted(headers["allow"].split(", "))
    return headers


def test_a_client_leaving_mid_file_does_not_hurt_the_worker(package):
    edge, video_id, files = package
    segment = max((n for n in files if n.endswith(".m4s")), key=lambda n: files[n]["size"])
    for _ in range(4):  # more than the workers: each one meets a leaving client
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the edge's sendfile must wait
        client.connect(("127.0.0.1", edge.port))
        client.sendall(f"GET /videos/{video_id}/{segment} HTTP/1.1\r\nHost: edge\r\n\r\n".encode())
        assert client.recv(1024).startswith(b"HTTP/1.1 200")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not FIN
        client.close()
    whole = requests.get(f"{edge.url}/videos/{video_id}/{segment}", timeout=10)
    assert hashlib.sha256(whole.content).hexdigest() == files[segment]["sha256"]
    assert "Traceback" not in edge.logs()


def test_pipelined_answers_wait_for_a_file_the_socket_did_not_take(package):
    """A slow reader asks for the largest segment and two more files in one packet: the segment's rest
    goes out as the client reads (runtime/plain.py), and only then the next answers, whole and in order."""
    edge, video_id, files = package
    segment = max((n for n in files if n.endswith(".m4s")), key=lambda n: files[n]["size"])
    asked = [("GET", segment), ("GET", "master.m3u8"), ("HEAD", segment), ("GET", segment)]
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the edge's sendfile cannot send it all
    client.settimeout(20)
    client.connect(("127.0.0.1", edge.port))
    try:
        client.sendall(b"".join(f"{method} /videos/{video_id}/{name} HTTP/1.1\r\nHost: edge\r\n\r\n".encode()
                                for method, name in asked))
        stream = client.makefile("rb")
        for method, name in asked:
            status = stream.readline()
            assert status.startswith(b"HTTP/1.1 200"), (method, name, status)
            length = None
            while (line := stream.readline()) != b"\r\n":
                field, _, value = line.decode("latin-1").partition(":")
                if field.lower() == "content-length":
                    length = int(value)
            assert length == files[name]["size"]
            body = stream.read(length) if method == "GET" else b""
            assert method == "HEAD" or hashlib.sha256(body).hexdigest() == files[name]["sha256"], name
    finally:
        client.close()
    assert "Traceback" not in edge.logs()


def test_files_and_flask_both_flow_while_an_upload_stalls(package):
    """The worker sends published files and receives request bodies itself (runtime/bodies.py): with
    one Flask thread and a stalled upload, a Flask route and a segment both come at once."""
    edge, video_id, files = package
    segment = next(n for n in files if n.endswith(".m4s"))
    lone = Server("edge", edge.data_dir, {**edge.env, "EDGE_BACKGROUND": "0", "GUNICORN_THREADS": "1"}).start()
    stalled = socket.create_connection(("127.0.0.1", lone.port))
    try:
        stalled.sendall(b"POST /api/v1/uploads HTTP/1.1\r\nHost: edge\r\nContent-Length: 100000\r\n"
                        b"Content-Type: multipart/form-data; boundary=b\r\n\r\n")  # and no body
        assert requests.get(lone.url + "/api/v1/status", timeout=10).ok
        whole = requests.get(f"{lone.url}/videos/{video_id}/{segment}", timeout=10)
        assert hashlib.sha256(whole.content).hexdigest() == files[segment]["sha256"]
    finally:
        stalled.close()
        lone.stop()

