"""runtime/heads.py: which request heads a worker may answer without gunicorn's parser. Anything in
doubt must be left to gunicorn (None), so that a recognised head is read as gunicorn reads it."""
import pytest

from runtime.heads import MAX_HEAD, plain_request

PATH = "/videos/" + "a" * 40 + "/720p.m3u8"
GET = f"GET {PATH} HTTP/1.1\r\nHost: edge\r\n".encode()


@pytest.mark.parametrize("head", [
    GET + b"\r\n",
    f"HEAD {PATH} HTTP/1.1\r\nHost: edge\r\n\r\n".encode(),
    GET + b"Connection: keep-alive\r\nUser-Agent: hls.js\r\nAccept: */*\r\nOrigin: https://site.example\r\n\r\n",
    f"GET {PATH} HTTP/1.1\r\n\r\n".encode(),
])
def test_plain_heads_are_recognised(head):
    assert plain_request(head + b"GET / HTTP/1.1\r\n", 0) == (head.split(b" ")[0], PATH.encode(), len(head))


@pytest.mark.parametrize("head", [
    GET,  # not all of it yet
    GET + b"Connection: close\r\n\r\n",
    GET + b"Connection: upgrade\r\nUpgrade: h2c\r\n\r\n",
    GET + b"Content-Length: 0\r\n\r\n",
    GET + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    GET + b"Range: bytes=0-9\r\n\r\n",
    GET + b"If-None-Match: \"x\"\r\n\r\n",
    GET + b"if-modified-since: Wed, 02 Dec 2026 16:44:25 GMT\r\n\r\n",
    GET + b"Expect: 100-continue\r\n\r\n",
    GET + b"Host: other\r\n\r\n",  # a second Host
    GET + b"Bad Name: x\r\n\r\n",
    GET + b"X: a\x00b\r\n\r\n",
    GET + b" folded\r\n\r\n",
    f"GET {PATH} HTTP/1.0\r\n\r\n".encode(),
    f"GET {PATH}?x=1 HTTP/1.1\r\n\r\n".encode(),
    b"GET /videos/%2e%2e/x HTTP/1.1\r\n\r\n",
    f"POST {PATH} HTTP/1.1\r\n\r\n".encode(),
    f"GET {PATH} HTTP/1.1\n\n".encode(),
    GET + b"X: " + b"a" * MAX_HEAD + b"\r\n\r\n",
])
def test_anything_else_is_left_to_gunicorn(head):
    assert plain_request(head) is None


def test_pipelined_heads_are_read_one_after_another():
    data = GET + b"\r\n" + GET + b"\r\n"
    first = plain_request(data)
    assert plain_request(data, first[2]) == (b"GET", PATH.encode(), len(data))
