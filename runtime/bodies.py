"""Flask on a pool of threads (a2wsgi), with each request's body received on the event loop first.

a2wsgi alone hands a request to a thread at once, and the thread then reads the body as it comes: a
client trickling a body holds a thread as long as it likes, and a handful of them hold every thread
of a node. Here the event loop receives the whole body first, in memory up to SPOOL_MEMORY and past
that in a nameless temporary file in the role's data dir, and the thread gets a complete request.

Nothing a stranger sends reaches the disk unasked: a body that outgrows SPOOL_MEMORY is first shown,
its first SPOOL_MEMORY bytes and all, to the app's `admit(scope, head)` (on a thread; the edge's,
edge/admission.py, wants a valid upload ticket there). Only if it returns None does the rest go on
to the spool file; otherwise its refusal, an ApiError-like object with status, code, message and
headers, is the answer, and the app never sees the request.

A body must keep up a minimum rate, nginx's client_body_timeout made a rate so a byte per timeout
does not pass: each `body_min_rate × body_rate_window` bytes must come within `body_rate_window`
seconds (SLIPSTREAM_BODY_MIN_RATE, SLIPSTREAM_BODY_RATE_WINDOW). A slower one is answered 408 and its
connection closed. A body declared larger than the app's limit is not received at all.

A body that ends early (too slow, the connection dropped, more than the limit) still goes to the app
with what did arrive, and reading past that raises werkzeug's ClientDisconnected, as when a client
vanishes mid-body under any WSGI server: the app refuses it in its own words (Flask's
MAX_CONTENT_LENGTH, the edge's EDGE_MAX_UPLOAD), or keeps what came (a tus PATCH, edge/tus.py).
Whatever it answers a body that stalled goes nowhere: the client has its 408.

A worker holds at most SLIPSTREAM_BODY_MEMORY of bodies in memory, all connections together: without a
bound, each of a crowd of trickled bodies could hold its SPOOL_MEMORY (with the connection caps, 4000
× 256 KiB, 1 GiB a worker). Past it, a body goes on to disk (through `admit`, as above) once it has
brought SPOOL_FIRST bytes, enough for an upload form's ticket and the start of its file part.

A disk that fills while a body is spooled (ENOSPC, EDQUOT) ends it with `507 insufficient_storage`
and the connection closed; the app never sees the request, and the nameless spool file is gone.
"""
import asyncio
import errno
import io
import json
import tempfile
from typing import NamedTuple

from a2wsgi import WSGIMiddleware
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wsgi import ClosingIterator

from . import settings

SPOOL_MEMORY = 256 * 1024  # what gunicorn itself holds of a body before it stops reading the socket
SPOOL_FIRST = 16 * 1024  # what a body brings before it goes to disk early, the worker's memory being full
SCOPE_KEY = "slipstream.body"
TOO_SLOW = json.dumps({"error": "request_timeout", "message": "the request body came too slowly"}).encode()
TIMEOUT = ({"type": "http.response.start", "status": 408,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(TOO_SLOW)),
                        (b"connection", b"close")]},
           {"type": "http.response.body", "body": TOO_SLOW})


class Refusal(NamedTuple):
    """An answer made here rather than by the app, in the shape `answer` sends."""
    status: int
    code: str
    message: str
    headers: dict


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
FULL_DISK = Refusal(507, "insufficient_storage", "the disk filled while this request's body arrived; "
                                                 "nothing of it was kept", {})


class FlaskOnThreads:
    """An ASGI app running `wsgi_app` on `threads` threads; `limit` is the largest body it takes
    (None: any), `spool_dir` where bodies past SPOOL_MEMORY wait."""

    def __init__(self, wsgi_app, threads, limit, spool_dir, admit=None, limits=None):
        limits = limits or settings.limits()
        self.wsgi_app, self.limit, self.spool_dir, self.admit = wsgi_app, limit, spool_dir, admit
        self.window = limits.body_rate_window
        self.block = int(limits.body_min_rate * self.window)  # bytes each window must bring; 0: no minimum
        self.memory = Memory(limits.body_memory)
        self.pool = WSGIMiddleware(self._with_body, workers=threads)

    async def __call__(self, scope, receive, send):
        length, chunked = framing(scope) if scope["type"] == "http" else (None, False)
        if not length and not chunked:
            return await self.pool(scope, receive, send)
        body = Body(self.spool_dir, self.admit and (lambda head: self.admit(scope, head)), self.memory)
        try:
            if length is not None and self.limit is not None and length > self.limit:
                body.cut = "too_large"
            else:
                await body.receive(receive, self.limit, self.block, self.window)
            if body.refusal is not None:
                body.close()
                for message in answer(body.refusal):
                    await send(message)
                return
            if body.cut == "stalled":
                for message in TIMEOUT:
                    await send(message)
                send = discard
            await self.pool({**scope, SCOPE_KEY: body}, receive, send)
        finally:
            body.release()  # here, on the event loop, which alone counts the memory; the app is done

    def _with_body(self, environ, start_response):
        """The WSGI side, on a thread: the received body becomes wsgi.input, closed with the answer."""
        body = environ["asgi.scope"].get(SCOPE_KEY)
        if body is None:
            return self.wsgi_app(environ, start_response)
        body.into(environ)
        try:
            return ClosingIterator(self.wsgi_app(environ, start_response), body.close)
        except BaseException:
            body.close()
            raise


def framing(scope):
    """(Content-Length or None, chunked) of a request; gunicorn has checked they agree."""
    length, chunked = None, False
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked


async def discard(message):
    pass


def answer(refusal):
    """The ASGI messages of a refusal, in the JSON error shape of both apps; the connection closes."""
    body = json.dumps({"error": refusal.code, "message": refusal.message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)),
               (b"connection", b"close")]
    headers += [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in refusal.headers.items()]
    return ({"type": "http.response.start", "status": refusal.status, "headers": headers},
            {"type": "http.response.body", "body": body})


class Memory:
    """The bytes of bodies one worker holds in memory, and its SLIPSTREAM_BODY_MEMORY (0: no limit).
    Only the event loop counts, so no lock."""

    def __init__(self, limit):
        self.limit, self.held = limit, 0

    def full(self, more):
        return bool(self.limit) and self.held + more > self.limit


class Body:
    """A request body as the event loop received it; `cut` says why it ended early, if it did."""

    def __init__(self, spool_dir, admit=None, memory=None):
        self.spool_dir, self.admit = spool_dir, admit  # admit(head): None, or the refusal
        self.memory, self.counted = memory or Memory(0), 0  # counted: this body's bytes in `memory`
        self.file, self.spooled, self.refusal = io.BytesIO(), False, None
        self.size, self.complete, self.cut = 0, False, None  # cut: "stalled", "gone", "too_large" or "refused"

    async def receive(self, receive, limit, block, window):
        timer = asyncio.timeout(window if block else None)
        try:
            async with timer:
                await self._fill(receive, limit, block, window, timer)
        except TimeoutError:
            pass
        if not (self.complete or self.cut):
            self.cut = "stalled"

    async def _fill(self, receive, limit, block, window, timer):
        loop, due = asyncio.get_running_loop(), block
        # expired(): asyncio.wait_for (under gunicorn's receive) can swallow the cancellation that
        # carries the timeout on Python 3.11; the timer then says so instead.
        while not timer.expired():
            message = await receive()
            if message["type"] != "http.request":
                self.cut = "gone"
                return
            chunk = message.get("body", b"")
            if limit is not None and self.size + len(chunk) > limit:
                chunk, self.cut = chunk[:limit - self.size], "too_large"
            try:
                if not self.spooled and message.get("more_body") and not self.cut and self._outgrows(chunk) \
                        and not await self._spool(loop, chunk):
                    return
                self.file.write(chunk)
                if self.spooled:
                    self.file.flush()  # so a full disk shows here, not on the app's thread
                else:
                    self.memory.held += len(chunk)
                    self.counted += len(chunk)
            except OSError as exc:
                if exc.errno not in DISK_FULL:
                    raise
                self.refusal, self.cut = FULL_DISK, "refused"  # the spool file is nameless: closing frees it
                return
            self.size += len(chunk)
            if self.cut:
                return
            if not message.get("more_body"):
                self.complete = True
                return
            if block and self.size >= due:
                if timer.expired():  # the deadline fired while this chunk came in: too late to move it
                    return
                due = self.size + block
                timer.reschedule(loop.time() + window)

    def _outgrows(self, chunk):
        """Whether the body goes on to disk before `chunk`: past SPOOL_MEMORY, or sooner while the
        worker's memory for bodies is full."""
        more = len(chunk)
        return self.size + more > SPOOL_MEMORY or (self.size >= SPOOL_FIRST and self.memory.full(more))

    async def _spool(self, loop, chunk):
        """Move to a file on disk, if the app admits the body; False (and `refusal` set) if not."""
        if self.admit is not None:
            refusal = await loop.run_in_executor(None, self.admit, self.file.getvalue() + chunk)
            if refusal is not None:
                self.refusal, self.cut = refusal, "refused"
                return False
        spool = tempfile.TemporaryFile(dir=self.spool_dir)
        spool.write(self.file.getbuffer())
        self.file, self.spooled = spool, True
        self.release()
        return True

    def into(self, environ):
        """Make this body the WSGI request's input."""
        self.file.seek(0)
        environ["wsgi.input"] = self.file if self.complete else Cut(self.file)
        if environ.pop("HTTP_TRANSFER_ENCODING", None) is not None:  # chunked, and now unframed
            if self.complete:
                environ["CONTENT_LENGTH"] = str(self.size)
            else:
                environ["wsgi.input_terminated"] = True  # read to the cut, which raises

    def close(self):
        self.file.close()

    def release(self):
        """No longer count this body's bytes as the worker's memory (on the event loop only)."""
        self.memory.held -= self.counted
        self.counted = 0


class Cut(io.RawIOBase):
    """What arrived of a body that ended early; reading past it raises ClientDisconnected."""

    def __init__(self, file):
        self.file = file

    def readable(self):
        return True

    def readinto(self, buffer):
        count = self.file.readinto(buffer)
        if not count and len(buffer):
            raise ClientDisconnected()
        return count
