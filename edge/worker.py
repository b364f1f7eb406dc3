"""The edge's gunicorn worker: runtime/worker.py's asyncio worker, plus sendfile for published files.

Segments are most of what an edge serves. Under gunicorn's thread worker each request is handed from
the poller to a thread and back, which costs ten times more CPU than deciding what to send
(bench/edge.py, README). This worker answers on the event loop instead: a plain GET or HEAD of a
published file (no body, no Range or conditional header: edge/fastpath.py decides, opening nothing
but a listed, regular file of the listed size) gets its headers written and its bytes sent with
sendfile(2) through `loop.sendfile`; every other request goes to the ASGI app as usual (edge/asgi.py:
Flask on threads). gunicorn.conf.py runs EdgeWorker for SLIPSTREAM_ROLE=edge, and its base,
runtime/worker.py's SharingWorker (the same event loop, without the file path), for the tracker.
FileProtocol is runtime/plain.py's PlainProtocol (a GuardedProtocol), so the edge has the same connection
caps and deadlines as the tracker, and answers small files from memory the way the tracker answers announces.
"""
import os
import time

from gunicorn.asgi import protocol

from runtime.plain import OpenFile, PlainProtocol, send_now, send_rest
from runtime.worker import SharingWorker

from .fastpath import CONDITIONAL_BYTES
from .memory import answer_head


class FileProtocol(PlainProtocol):
    """Published files are answered as soon as their head is in (runtime/plain.py): small ones from
    memory (edge/memory.py) with one write, the others with sendfile(2) straight from the file. The rest
    (a Range, a conditional header, a query, a head runtime/heads.py does not call plain) goes to
    gunicorn: a GET or HEAD of a published file is still sent with sendfile there (below), anything else
    Flask answers."""

    def plain_answer(self, method, path, query, fields):
        if query is not None:
            return None
        copy = self.worker.memory.find(path)
        if copy is not None:
            return copy.head, copy.body
        found = self.worker.files.find(method.decode(), path.decode())
        return None if found is None else (answer_head(found.headers), OpenFile(found.fd, found.size))

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
        sent = send_now(self.transport, fd, size)
        if sent < size:
            sent += await send_rest(self.worker.loop, self.transport, fd, sent, size)
        return sent


class EdgeWorker(SharingWorker):
    protocol = FileProtocol
    c_parser = False  # answers from memory must see that nothing of the next request is buffered (runtime/plain.py)

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
