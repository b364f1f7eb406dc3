"""protocol/http.py: the guarded client refuses private addresses, redirects, huge and slow answers."""
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from protocol.http import GuardedClient, UnsafeRequest


class Handler(BaseHTTPRequestHandler):
    """A server that answers whatever each path asks for: the peer a test wants to face."""

    def do_GET(self):
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/")
            self.end_headers()
        elif self.path == "/trickle":
            self.send_response(200)
            self.end_headers()
            for _ in range(40):  # bounded: 40 × 0.05 s, well past the test's deadline
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.05)
        elif self.path == "/chunked-huge":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(64):
                self.wfile.write(b"1000\r\n" + b"x" * 0x1000 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            body = {"/json": json.dumps({"ok": True}), "/list": "[1, 2]", "/text": "not json",
                    "/huge": "x" * 100_000}.get(self.path, "")
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def peer():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_loopback_and_private_addresses_are_refused_by_default(peer):
    client = GuardedClient()
    port = peer.rsplit(":", 1)[1]
    # Only loopback forms here: this machine may send nothing to other private ranges, even by mistake.
    for url in (f"{peer}/json", f"http://localhost:{port}/json", f"http://127.0.0.2:{port}/json",
                f"http://[::1]:{port}/", f"http://0.0.0.0:{port}/", f"http://[::ffff:127.0.0.1]:{port}/"):
        with pytest.raises(UnsafeRequest, match="is not public"):
            client.get_json(url)


def test_a_local_network_may_allow_private_addresses(peer):
    assert GuardedClient(allow_private=True).get_json(f"{peer}/json") == {"ok": True}


def test_only_http_and_https_urls_with_a_host(peer):
    client = GuardedClient(allow_private=True)
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1/", "http:///json", "json", ""):
        with pytest.raises(UnsafeRequest, match="only http and https"):
            client.get_json(url)


def test_redirects_are_not_followed(peer):
    with pytest.raises(UnsafeRequest, match="redirect"):
        GuardedClient(allow_private=True).get_json(f"{peer}/redirect")


def test_answers_over_the_cap_are_refused(peer):
    client = GuardedClient(allow_private=True, max_bytes=10_000)
    with pytest.raises(UnsafeRequest, match="cap"):
        client.request("GET", f"{peer}/huge")
    with pytest.raises(UnsafeRequest, match="cap"):
        client.request("GET", f"{peer}/chunked-huge")


def test_a_trickling_answer_is_cut_at_the_deadline(peer):
    client = GuardedClient(allow_private=True, deadline=0.5)
    with pytest.raises(UnsafeRequest, match="deadline"):
        client.request("GET", f"{peer}/trickle")


def test_answers_that_are_not_json_objects_are_misses(peer):
    client = GuardedClient(allow_private=True)
    for path, reason in (("/list", "object"), ("/text", "not JSON"), ("/missing", "404")):
        with pytest.raises(UnsafeRequest, match=reason):
            client.get_json(peer + path)


def test_a_large_body_may_go_to_a_file_as_it_arrives(peer):
    out = io.BytesIO()
    answer = GuardedClient(allow_private=True).request("GET", f"{peer}/huge", into=out)
    assert answer.status == 200 and answer.body == b"" and out.getvalue() == b"x" * 100_000
    out = io.BytesIO()
    with pytest.raises(UnsafeRequest, match="cap"):
        GuardedClient(allow_private=True, max_bytes=10_000).request("GET", f"{peer}/chunked-huge", into=out)
    assert len(out.getvalue()) <= 10_000  # nothing past the cap is written
