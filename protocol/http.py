"""The one guarded client for every request a node sends to a server someone else named: peer
trackers, node URLs, replication sources, oEmbed targets. Such servers are untrusted like any other
(README.md, trust model), so a request to one must not reach what the sender cannot.

requests-hardened resolves the host once and checks the address it then connects to (so a DNS
answer cannot change between the check and the connection) against loopback, private, link-local
and multicast ranges, unless `allow_private` (local networks, tests); redirects are never followed;
on top of that every request here has a deadline (checked after each chunk of the body, so a
trickling server holds a caller at most the deadline plus one read timeout) and a size cap on the
body, and every failure is one exception type, so a caller can treat a hostile answer as a miss.
"""
import json
import threading
import time
from urllib.parse import urlsplit

import requests
from requests_hardened import Config, Manager
from requests_hardened.ip_filter import InvalidIPAddress

from .errors import ProtocolError

MAX_BYTES = 1 << 20  # a JSON answer of a peer or a node is far smaller
DEADLINE = 5.0  # seconds for the whole request: connect, headers and body
CHUNK = 1 << 16


class UnsafeRequest(ProtocolError):
    """A guarded request failed or was refused: bad URL, forbidden address, redirect, too slow,
    too large, a network error, or (for `get_json`) an answer that is not a JSON object."""


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body


class GuardedClient:
    def __init__(self, allow_private=False, deadline=DEADLINE, max_bytes=MAX_BYTES):
        self.deadline, self.max_bytes = deadline, max_bytes
        self.manager = Manager(Config(
            ip_filter_enable=not allow_private, ip_filter_allow_loopback_ips=False,
            never_redirect=True, default_timeout=(deadline, deadline)))
        # A session per thread: connections are reused, and requests' sessions are not shared safely.
        self.local = threading.local()

    def session(self):
        if getattr(self.local, "session", None) is None:
            self.local.session = self.manager.get_session()
        return self.local.session

    def request(self, method, url, deadline=None, max_bytes=None, into=None, **kwargs):
        """Send one request; return its Answer (any status), or raise UnsafeRequest. With `into`
        (anything with a `write` method) the body, whatever the status, is written there as it
        arrives instead of kept (large files); the Answer's body is then empty."""
        deadline = min(deadline or self.deadline, self.deadline)
        max_bytes = max_bytes or self.max_bytes
        check_url(url)
        ends = time.monotonic() + deadline
        try:
            with self.session().request(method, url, stream=True, timeout=(deadline, deadline),
                                        allow_redirects=False, **kwargs) as response:
                if response.is_redirect:
                    raise UnsafeRequest(f"{url}: redirects are not followed")
                body = read_capped(response, max_bytes, ends, into)
                return Answer(response.status_code, response.headers, body)
        except InvalidIPAddress as exc:
            raise UnsafeRequest(f"{url}: address {exc} is not public (loopback, private, link-local or "
                                "multicast)") from exc
        except requests.RequestException as exc:
            raise UnsafeRequest(f"{url}: {exc}") from exc

    def get_json(self, url, **kwargs):
        """GET a JSON object with a 200; anything else is an UnsafeRequest."""
        answer = self.request("GET", url, **kwargs)
        if answer.status != 200:
            raise UnsafeRequest(f"{url}: status {answer.status}")
        try:
            document = json.loads(answer.body)
        except ValueError as exc:
            raise UnsafeRequest(f"{url}: not JSON") from exc
        if not isinstance(document, dict):
            raise UnsafeRequest(f"{url}: not a JSON object")
        return document


def check_url(url):
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UnsafeRequest(f"not a URL: {url!r}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeRequest(f"only http and https URLs with a host, not {url!r}")


def read_capped(response, max_bytes, ends, into=None):
    """The body, read in chunks (written to `into` if given): refused once it passes `max_bytes` or
    the clock passes `ends`, so neither a huge nor a trickling answer can hold the caller."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdecimal() and int(declared) > max_bytes:
        raise UnsafeRequest(f"answer of {declared} bytes is over the cap of {max_bytes}")
    chunks, size = [], 0
    for chunk in response.iter_content(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise UnsafeRequest(f"answer is over the cap of {max_bytes} bytes")
        if time.monotonic() > ends:
            raise UnsafeRequest("answer did not arrive within the deadline")
        if into is None:
            chunks.append(chunk)
        else:
            into.write(chunk)
    return b"".join(chunks)
