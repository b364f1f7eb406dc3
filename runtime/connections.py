"""The connections one worker holds: its caps, and the deadline for each request's head.

`Connections` is the worker's book (runtime/worker.py). A connection over a cap is refused at once
(runtime/protocol.py answers 503 with Retry-After) and never counted, so the clients already
connected keep being served. Caps are per worker process, as nginx's `limit_conn` is per zone: with
WEB_CONCURRENCY workers a node holds up to that many times each cap.

The head deadline is kept by a sweep over the open connections a few times per deadline rather than
by a timer per request: a timer would cost the hot paths (BitTorrent announces, segments) a heap push
and a cancel on every request, where the sweep costs them two attribute writes.
"""
import asyncio
import ctypes
import ctypes.util
import json
import socket
import time

IPV4_MAPPED = bytes(10) + b"\xff\xff"  # ::ffff:0:0/96, RFC 4291 section 2.5.5.2
TRIM_EVERY = 30  # seconds between returns of freed memory to the system


def _malloc_trim():
    """glibc's malloc_trim(0), or a no-op elsewhere. A crowd of slow clients leaves the heap full of
    freed buffers that glibc keeps for reuse; without a trim the worker's memory stays at the size of
    the biggest crowd it ever held (bench/soak.py measured +160 % after an attack had ended)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
    trim = getattr(libc, "malloc_trim", None)
    return (lambda: trim(0)) if trim else (lambda: None)


trim_memory = _malloc_trim()


def refusal(status, reason, code, message, headers=()):
    """A whole HTTP/1.1 answer that closes the connection, in the JSON error shape of both apps."""
    body = json.dumps({"error": code, "message": message}).encode()
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", f"Content-Length: {len(body)}",
            *headers, "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def address_key(peername):
    """What a per-address cap counts by: the IPv4 address, or the /64 of an IPv6 one (one
    subscriber's usual allocation, every address of which one host can take). None for a Unix
    socket, which has no client address."""
    if not isinstance(peername, tuple):
        return None
    host = peername[0]
    if ":" not in host:
        return host
    packed = socket.inet_pton(socket.AF_INET6, host.partition("%")[0])
    if packed.startswith(IPV4_MAPPED):  # an IPv4 client of a dual-stack socket
        return socket.inet_ntoa(packed[12:])
    return packed[:8]


class Connections:
    def __init__(self, limits):
        self.limits = limits
        self.open = set()
        self.per_address = {}

    def admit(self, connection, peername):
        """Count `connection` in, or return the reason it is refused (it is then not counted)."""
        cap = self.limits.max_connections_per_address
        key = address_key(peername)
        held = self.per_address.get(key, 0)
        if self.limits.max_connections and len(self.open) >= self.limits.max_connections:
            return "this server holds all the connections it takes; try again shortly"
        if cap and key is not None and held >= cap:
            return f"{held} connections from your address are open, the most this server takes"
        self.open.add(connection)
        self.per_address[key] = held + 1
        connection.address = key
        return None

    def release(self, connection):
        if connection in self.open:
            self.open.discard(connection)
            left = self.per_address.pop(connection.address) - 1
            if left:
                self.per_address[connection.address] = left

    async def sweep(self, loop):
        """Close every connection whose request head is older than the header timeout, and now and
        then give freed memory back; runs for the worker's life. The deadline is kept within a
        quarter of itself (a second at most)."""
        timeout = self.limits.header_timeout
        trimmed = time.monotonic()
        while True:
            await asyncio.sleep(min(timeout / 4, 1.0) if timeout else 1.0)
            if time.monotonic() - trimmed >= TRIM_EVERY:
                trim_memory()
                trimmed = time.monotonic()
            if not timeout:
                continue
            now = loop.time()
            late = [c for c in self.open if c.head_since is not None and now - c.head_since >= timeout]
            for connection in late:
                connection.head_timed_out()
