"""Slow clients and crowds against both roles' real workers (gunicorn on loopback, small limits): a
request head or body that comes too slowly is cut, a trickled body never holds a Flask thread,
connections over a cap are refused while the others are served, and an idle connection is closed."""
import asyncio
import base64
import http.client
import json
import select
import socket
import threading
import urllib.parse

import pytest
import requests

from runtime.bodies import Body
from tests.actions import announced, place, wait_for
from tests.edges import Edge
from tests.servers import start_edge, start_tracker

THREADS = 2
PER_ADDRESS = 5
LIMITS = {"GUNICORN_THREADS": str(THREADS), "SLIPSTREAM_HEADER_TIMEOUT": "1", "SLIPSTREAM_BODY_MIN_RATE": "1000",
          "SLIPSTREAM_BODY_RATE_WINDOW": "4", "SLIPSTREAM_KEEPALIVE_TIMEOUT": "3",
          "SLIPSTREAM_MAX_CONNECTIONS_PER_ADDRESS": str(PER_ADDRESS)}
WAIT = 30  # seconds any read may wait: far beyond every deadline above, so only a hang fails
ROLES = ("tracker", "edge")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    root = tmp_path_factory.mktemp("slow")
    tracker = start_tracker(root / "tracker", **LIMITS)
    started = [tracker]
    try:
        started.append(start_edge(root / "edge", tracker.url, **LIMITS))
        wait_for(lambda: announced(started[1]), message="the edge announced")
        yield dict(zip(ROLES, started))
    finally:
        for server in reversed(started):
            server.stop()


def connect(server, source):
    """A raw connection from loopback address `source`: all of 127.0.0.0/8 is this machine, so each
    test's clients can come from an address of their own."""
    return socket.create_connection(("127.0.0.1", server.port), timeout=WAIT, source_address=(source, 0))


def client(server, source):
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT, source_address=(source, 0))


def get_once(server, source):
    """A GET on a connection of its own, closed after."""
    connection = client(server, source)
    try:
        return get(connection)
    finally:
        connection.close()


def until_closed(sock):
    """Everything the server sends until it closes the connection (or resets it: a byte the client
    sent after the server closed is answered with a reset)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def get(connection, path="/healthz"):
    connection.request("GET", path)
    answer = connection.getresponse()
    answer.body = answer.read()
    return answer


@pytest.mark.parametrize("role", ROLES)
def test_a_head_not_whole_by_the_deadline_is_cut(servers, role):
    with connect(servers[role], "127.0.0.2") as partial, connect(servers[role], "127.0.0.2") as silent:
        partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")  # never the blank line that ends a head
        answer = until_closed(partial)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert json.loads(answer.split(b"\r\n\r\n")[1])["error"] == "request_timeout"
        assert until_closed(silent) == b""  # a connection that never said a word is simply closed


def honest_request(role, server):
    if role == "tracker":  # an edge's signed announce: what must never fail, or the network goes dark
        return requests.post(server.url + "/api/v1/nodes/announce", json=Edge().announce_doc(), timeout=WAIT)
    return requests.get(server.url + "/api/v1/status", timeout=WAIT)


@pytest.mark.parametrize("role", ROLES)
def test_trickled_bodies_hold_no_flask_thread(servers, role):
    server = servers[role]
    slow = [connect(server, f"127.0.0.{10 + n}") for n in range(THREADS + 2)]
    for sock in slow:
        sock.sendall(b"POST /api/v1/uploads HTTP/1.1\r\nHost: slow\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000\r\n\r\n")
    stop = threading.Event()

    def trickle():  # 10 bytes a second each, until its answer comes: far below 1000
        while not stop.wait(0.1):
            answered, _, _ = select.select(slow, [], [], 0)
            for sock in set(slow) - set(answered):
                try:
                    sock.send(b" ")
                except OSError:  # answered and closed just now
                    pass

    trickling = threading.Thread(target=trickle, daemon=True)
    trickling.start()
    try:
        honest = honest_request(role, server)
        answered, _, _ = select.select(slow, [], [], 0)
        assert honest.status_code == 200, honest.text
        assert not answered  # every trickle was still being received while the honest request was served
        for sock in slow:
            assert until_closed(sock).startswith(b"HTTP/1.1 408 ")
    finally:
        stop.set()
        trickling.join()
        for sock in slow:
            sock.close()


@pytest.mark.parametrize("role", ROLES)
def test_connections_over_an_address_cap_are_refused_while_the_others_are_served(servers, role):
    server = servers[role]
    held = [client(server, "127.0.0.3") for _ in range(PER_ADDRESS)]
    try:
        assert all(get(connection).status == 200 for connection in held)
        refused = get_once(server, "127.0.0.3")
        assert refused.status == 503 and int(refused.getheader("Retry-After")) > 0
        assert refused.getheader("Connection") == "close"
        assert json.loads(refused.body)["error"] == "too_many_connections"
        assert get(held[0]).status == 200  # the clients already in are still served
        assert get_once(server, "127.0.0.4").status == 200  # and so is every other address
    finally:
        for connection in held:
            connection.close()


@pytest.mark.parametrize("role", ROLES)
def test_an_idle_kept_alive_connection_is_closed(servers, role):
    connection = client(servers[role], "127.0.0.6")
    try:
        assert get(connection).status == 200
        assert connection.sock.recv(1) == b""  # closed by the server, after SLIPSTREAM_KEEPALIVE_TIMEOUT
    finally:
        connection.close()


@pytest.mark.parametrize("how", ["dropped", "stalled"])
def test_a_resumable_upload_keeps_what_came_before_its_patch_broke_off(servers, tmp_path, how):
    """The edge receives a body before Flask sees it, yet a tus PATCH cut short still writes what did
    arrive (edge/tus.py), so the upload resumes from there."""
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"v" * 100_000)
    placement = place(servers["tracker"].url, clip, "cut short")
    tus = {"Tus-Resumable": "1.0.0"}
    ticket = base64.b64encode(placement["ticket"].encode()).decode()
    created = requests.post(placement["upload_url"], timeout=WAIT,
                            headers={**tus, "Upload-Length": "100000", "Upload-Metadata": f"ticket {ticket}"})
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    path = urllib.parse.urlsplit(location).path
    with connect(servers["edge"], "127.0.0.7") as sock:
        sock.sendall(f"PATCH {path} HTTP/1.1\r\nHost: slow\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                     f"Content-Type: application/offset+octet-stream\r\nContent-Length: 100000\r\n\r\n".encode()
                     + b"v" * 30_000)
        if how == "stalled":
            assert until_closed(sock).startswith(b"HTTP/1.1 408 ")

    def offset():
        return requests.head(location, headers=tus, timeout=WAIT).headers["Upload-Offset"]
    wait_for(lambda: offset() == "30000", timeout=WAIT, interval=0.05, message="the 30,000 bytes that came kept")


def test_a_body_below_the_minimum_rate_is_cut_even_if_it_never_stops(tmp_path):
    """Averaged, not between bytes: a byte every 10 ms keeps the connection busy but is too slow."""
    async def trickle():
        await asyncio.sleep(0.01)
        return {"type": "http.request", "body": b"x", "more_body": True}

    async def receive(source, block, window):
        body = Body(tmp_path)
        await body.receive(source, limit=None, block=block, window=window)
        return body

    slow = asyncio.run(receive(trickle, block=500, window=0.3))  # needs 500 bytes each 0.3 s
    slow.close()
    assert slow.cut == "stalled" and 0 < slow.size < 500
    messages = iter([{"type": "http.request", "body": b"x" * 400_000, "more_body": True},
                     {"type": "http.request", "body": b"y" * 200_000, "more_body": False}])

    async def fast():
        return next(messages)
    whole = asyncio.run(receive(fast, block=500, window=0.3))
    assert whole.complete and whole.cut is None and whole.size == 600_000
    whole.file.seek(0)
    try:
        assert whole.file.read() == b"x" * 400_000 + b"y" * 200_000
    finally:
        whole.close()


def form_head(boundary, fields):
    """The start of a multipart form: `fields` (name, value) in order, then the `file` part's head."""
    parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
             for name, value in fields]
    parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n"
                 f"Content-Type: video/mp4\r\n\r\n")
    return "".join(parts).encode()


def send_large(server, source, head, first, total=50_000_000):
    """Send `head` announcing a body of `total` bytes and the body's first bytes `first`; return the
    answer, which must come while nearly all of the body is still unsent."""
    with connect(server, source) as sock:
        sock.sendall(head.replace(b"{total}", str(total).encode()) + first)
        return until_closed(sock)


def status_and_error(answer):
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)["error"]


@pytest.mark.parametrize("fields, error", [([], "ticket_first"), ([("ticket", "forged")], "invalid_ticket")])
def test_a_large_form_without_a_valid_ticket_is_refused_before_its_file_is_received(servers, fields, error):
    """Past 256 KiB a body would go to disk: a stranger's never does. The refusal comes after the
    form's first bytes, with 50 MB of it never sent."""
    boundary = "slipstreamboundary"
    head = (f"POST /api/v1/uploads HTTP/1.1\r\nHost: slow\r\nContent-Type: multipart/form-data; boundary={boundary}"
            f"\r\nContent-Length: {{total}}\r\n\r\n").encode()
    answer = send_large(servers["edge"], "127.0.0.8", head, form_head(boundary, fields) + b"v" * 300_000)
    assert status_and_error(answer) == (401, error)


def test_large_bodies_go_only_to_uploads(servers):
    server = servers["edge"]
    patch = (b"PATCH /api/v1/uploads/AAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: slow\r\nTus-Resumable: 1.0.0\r\n"
             b"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {total}\r\n\r\n")
    assert status_and_error(send_large(server, "127.0.0.9", patch, b"v" * 300_000)) == (404, "not_found")
    other = b"POST /api/v1/status HTTP/1.1\r\nHost: slow\r\nContent-Length: {total}\r\n\r\n"
    assert status_and_error(send_large(server, "127.0.0.9", other, b"v" * 300_000)) == (413, "too_large")


def test_a_large_form_with_a_valid_ticket_is_received_whole(servers, tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"v" * 700_000)  # not a video: the job fails later, but the upload is received
    placement = place(servers["tracker"].url, clip, "large form")
    with open(clip, "rb") as file:
        answer = requests.post(placement["upload_url"], data={"ticket": placement["ticket"]},
                               files={"file": file}, timeout=WAIT)
    assert answer.status_code == 202, answer.text
    job = requests.get(answer.json()["status_url"], timeout=WAIT)
    assert job.status_code == 200 and job.json()["job"] == answer.json()["job"]


def test_a_chunk_that_comes_as_the_deadline_fires_ends_the_body_cleanly(tmp_path):
    """The timeout's cancellation can be swallowed under gunicorn's receive (asyncio.wait_for on
    Python 3.11) while a chunk that meets the rate comes in: the body is cut, never a 500."""
    async def late():
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            pass  # swallowed, as it can be inside gunicorn's receive
        return {"type": "http.request", "body": b"x" * 600, "more_body": True}

    async def receive():
        body = Body(tmp_path)
        await body.receive(late, limit=None, block=500, window=0.1)
        return body

    body = asyncio.run(receive())
    body.close()
    assert body.cut == "stalled" and body.size == 600
