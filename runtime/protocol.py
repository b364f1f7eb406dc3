"""gunicorn's HTTP/1 connection handler with the caps and the head deadline of runtime/connections.py.

A connection over a cap gets its 503 as soon as it is accepted. It is then only read from, and what
it sends dropped, until the client closes it (at most LINGER seconds): closing a socket with unread
bytes makes the kernel reset the connection, and a client can lose an answer it has not read yet
to that reset (Apache's and nginx's "lingering close").

A request's head is due `header_timeout` after it began: from the connection's start for the first
request, from its first byte for the next ones (idle time in between is gunicorn's `keepalive`
timer's, set from SLIPSTREAM_KEEPALIVE_TIMEOUT in gunicorn.conf.py). A late head is answered 408 if
any of it came, and the connection closed. Bodies have their own deadline, runtime/bodies.py.
"""
from gunicorn.asgi.protocol import ASGIProtocol

from .connections import refusal

LINGER = 2.0
RETRY_AFTER = 5  # seconds; connections free up as clients finish or idle out
HEAD_TIMEOUT = refusal(408, "Request Timeout", "request_timeout", "the request's head did not arrive in time")


class GuardedProtocol(ASGIProtocol):
    head_since = None  # loop time the request head now awaited began; None while none is
    head_started = False  # a byte of that head came
    refused = False
    address = None  # what the per-address cap counts this connection under

    def connection_made(self, transport):
        reason = self.worker.connections.admit(self, transport.get_extra_info("peername"))
        if reason is not None:
            self._refuse(transport, reason)
            return
        self.head_since = self.worker.loop.time()
        super().connection_made(transport)
        if self._callback_parser is None:  # HTTP/2 or uWSGI: no HTTP/1 head to time
            self.head_since = None

    def data_received(self, data):
        if self.refused:
            return
        if self._current_request is None and self._callback_parser is not None:
            self.head_started = True
            if self.head_since is None:
                self.head_since = self.worker.loop.time()
        super().data_received(data)

    def _on_headers_complete(self):
        self.head_since, self.head_started = None, False
        return super()._on_headers_complete()

    def head_timed_out(self):
        """The sweep found this connection's request head late."""
        self.head_since = None
        if self.head_started:
            self._safe_write(HEAD_TIMEOUT)
        self._close_transport()
        self._request_ready.set()  # lets the connection loop see the close, as gunicorn's keepalive timeout does

    def connection_lost(self, exc):
        if self.refused:
            self._linger.cancel()
            return
        self.worker.connections.release(self)
        super().connection_lost(exc)
        # gunicorn_h1c's parser holds this protocol's bound methods and is not tracked by the garbage
        # collector, so the cycle through it outlives the connection unless it is broken here (the
        # request's task, if still running, checks for a parser before using it).
        self._callback_parser = None

    def _refuse(self, transport, reason):
        self.refused, self.transport = True, transport
        transport.write(refusal(503, "Service Unavailable", "too_many_connections", reason,
                                [f"Retry-After: {RETRY_AFTER}"]))
        if transport.can_write_eof():
            transport.write_eof()
        self._linger = self.worker.loop.call_later(LINGER, transport.close)
