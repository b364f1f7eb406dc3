"""The edge's gunicorn worker: runtime/worker.py's asyncio worker, plus sendfile for published files.

Segments are most of what an edge serves. Under gunicorn's thread worker each request is handed from
the poller to a thread and back, which costs ten times more CPU than deciding what to send
(bench/edge.py, README). This worker answers on the event loop instead: a plain GET or HEAD of a
published file (no body, no Range or conditional header: edge/fastpath.py decides, opening nothing
but a listed, regular file of the listed size) gets its headers written and its bytes sent with
sendfile(2) through `loop.sendfile`; every other request goes to the ASGI app as usual (edge/asgi.py:
Flask on threads). gunicorn.conf.py runs EdgeWorker for SLIPSTREAM_ROLE=edge, and its base,
runtime/worker.py's SharingWorker (the same event loop, without the file path), for the tracker.
FileProtocol is runtime/protocol.py's GuardedProtocol, so the edge has the same connection caps and
deadlines as the tracker.
"""
import os
import time

from gunicorn.asgi import protocol
from werkzeug.http import http_date

from runtime.heads import plain_request
from runtime.protocol import GuardedProtocol
from runtime.worker import SharingWorker

from .fastpath import CONDITIONAL_BYTES

# Answers written straight from data_received stop once this much waits unsent: the rest of what
# a client pipelined then goes through gunicorn, which stops reading from a client that does not
# read (gunicorn's own high-water mark for the transport).
MOST_UNSENT = protocol.HIGH_WATER_LIMIT


class FileProtocol(GuardedProtocol):
    answered_at = None  # loop time of the last answer written from data_received
    idle_timer = None  # the keep-alive timer those answers armed

    def data_received(self, data):
        """Plain GETs and HEADs of small published files (edge/memory.py) are answered here, as soon
        as their head is in, with one write each; every other request (and all that follows it in
        `data`) goes on to gunicorn's parser as before."""
        if self._at_request_start():
            data = self._answer_from_memory(data)
            if not data:
                return
        super().data_received(data)

    def _at_request_start(self):
        """Between requests with nothing of the next one read yet, and nothing that rules out an
        answer from here: the connection loop is idle waiting, and the parser's buffer is empty (gunicorn's
        Python parser's; with gunicorn_h1c, whose buffer is not visible, every request goes to gunicorn)."""
        worker = self.worker
        return (self._current_request is None and not self.refused and not self._closed
                and not getattr(self._callback_parser, "_buffer", True) and self._keepalive
                and worker.alive and worker.memory.budget and not self.log.access_log_enabled)

    def _answer_from_memory(self, data):
        """Answer the plain requests at the start of `data` from memory; what is left to parse."""
        worker, write, start = self.worker, self.transport.write, 0
        while worker.nr + 1 < worker.max_requests and self.transport.get_write_buffer_size() <= MOST_UNSENT:
            plain = plain_request(data, start)
            if plain is None:
                break
            method, path, end = plain
            copy = worker.memory.find(path)
            if copy is None:
                break
            if method == b"GET":
                write(b"".join((copy.head, date_line(), b"\r\n", copy.body)))
            else:
                write(b"".join((copy.head, date_line(), b"\r\n")))
            worker.nr += 1
            start = end
        if not start:
            return data
        self.head_since, self.head_started = None, False
        self.answered_at = worker.loop.time()
        handle = self._keepalive_handle
        if handle is None or handle is not self.idle_timer:  # none, or gunicorn's, timed from its last answer
            if handle is not None:
                handle.cancel()
            self._keepalive_handle = self.idle_timer = worker.loop.call_later(self._keepalive, self._idle_check)
        return data[start:]

    def _idle_check(self):
        """gunicorn's keep-alive timeout for connections answered from data_received: armed once per
        timeout rather than per answer. A request in progress has its own deadlines, and gunicorn's
        connection loop re-arms this timer (cancelling ours) once it has served one."""
        self._keepalive_handle = self.idle_timer = None
        if self._closed or self._current_request is not None or self.head_since is not None:
            return
        left = self.answered_at + self._keepalive - self.worker.loop.time()
        if left > 0:
            self._keepalive_handle = self.idle_timer = self.worker.loop.call_later(left, self._idle_check)
        else:
            self._keepalive_timeout()

    async def _handle_http_request(self, request, sockname, peername, complete=None):
        found = None
        if request.method in ("GET", "HEAD") and not request.content_length and not request.chunked \
                and not any(name.lower() in CONDITIONAL_BYTES for name, _ in request.headers_bytes):
            found = self.worker.files.find(request.method, request.path)
        if found is None:
            return await super()._handle_http_request(request, sockname, peername, complete)
        started = time.monotonic()
        sent = 0
        try:
            close = self._will_close(request, False)
            self._send_response_start(200, found.headers, request, close=close)
            head, self._response_buffer = self._response_buffer, None
            self.transport.write(head)
            if request.method == "GET":
                sent = await self._send_file(found.fd, found.size)
        except (OSError, RuntimeError):  # the client went away (RuntimeError: transport closing)
            return False
        finally:
            os.close(found.fd)
        if self.log.access_log_enabled:
            self.log.access(protocol.ASGIResponseInfo(200, found.headers, sent), request,
                            self._build_environ(request, sockname, peername),
                            protocol._RequestTime(time.monotonic() - started))
        return not close

    async def _send_file(self, fd, size):
        """sendfile(2) straight to the socket, which usually takes a whole segment at once; what it
        does not take, the loop's sendfile sends as the client reads (it waits for the head too)."""
        sent = 0
        if not self.transport.get_write_buffer_size():
            try:
                sent = os.sendfile(self.transport.get_extra_info("socket").fileno(), fd, 0, size)
            except BlockingIOError:
                pass
        if sent < size:
            with open(fd, "rb", buffering=0, closefd=False) as file:
                sent += await self.worker.loop.sendfile(self.transport, file, sent, size - sent)
        return sent


_date = [None, b""]  # (second, its Date line), made once a second


def date_line():
    now = int(time.time())
    if _date[0] != now:
        _date[:] = now, f"Date: {http_date(now)}\r\n".encode("latin-1")
    return _date[1]


class EdgeWorker(SharingWorker):
    protocol = FileProtocol

    def load_wsgi(self):
        super().load_wsgi()
        self.files = self.asgi.files  # wsgi:app is edge/asgi.py's EdgeASGI
        self.memory = self.asgi.memory

    async def _shutdown(self):
        # The background threads' goodbyes first (the router's port mapping deleted, `stopped`
        # announced): an idle kept-alive connection holds the worker for all of gunicorn's grace
        # time, after which the master kills it and atexit never runs.
        running = self.asgi.wsgi_app.extensions.get("edge.background")
        if running:
            await self.loop.run_in_executor(None, running.stop)
        await super()._shutdown()
