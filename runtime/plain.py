"""Answers written straight from data_received: the hot path of both roles.

gunicorn's parser, request object, task and ASGI events cost more CPU than answering a small request
does (bench/edge.py, bench/tracker.py, README "Benchmarks"). A connection between requests, with
nothing of the next one read yet, hands each plain head it receives (runtime/heads.py) to
`plain_answer`; what that answers is written at once with one write, and the first request it leaves
(with all that follows it) goes to gunicorn as before. The edge answers small published files from
memory this way (edge/worker.py), the tracker BitTorrent's announces and scrapes (tracker/worker.py).

What gunicorn does per request still holds: the head deadline, keep-alive and its idle timeout,
max_requests, and a client that does not read (answers stop once MOST_UNSENT waits unsent, and the
rest goes through gunicorn, which stops reading from it). With an access log on, everything goes
through gunicorn, which logs it.

An answer may also be a future, made off the event loop (the tracker's sources lookups, which read the
database): until it is written the connection reads nothing more, as below, and if it makes no answer
the request goes to gunicorn after all.

A body may also be an open file (OpenFile: the edge's segments), sent with sendfile(2) straight to the
socket, which on loopback and most networks takes a whole segment at once. What it does not take is
sent by a task as the client reads; until that is done the connection reads nothing more (what of the
next requests had come is kept and handled after), so answers never interleave.
"""
import os
import time
from typing import NamedTuple

from gunicorn.asgi import protocol
from werkzeug.http import http_date

from .heads import plain_head
from .protocol import GuardedProtocol

MOST_UNSENT = protocol.HIGH_WATER_LIMIT  # gunicorn's own high-water mark for the transport


class OpenFile(NamedTuple):
    """An answer's body to send from an open file: the protocol closes `fd` once it is sent."""
    fd: int
    size: int


class PlainProtocol(GuardedProtocol):
    answered_at = None  # loop time of the last answer written from data_received
    idle_timer = None  # the keep-alive timer those answers armed
    sending = None  # the task sending the rest of a file the socket did not take at once
    held = b""  # what came meanwhile: handled once that task is done

    def plain_answer(self, method, path, query, fields):
        """The whole answer (status line and headers without Date and the blank line, and the body) to
        the plain request `method path?query` with header `fields` (runtime/heads.py's plain_head), a
        future of that answer (or of None), or None to leave it and all after it to gunicorn."""

    def answers_plain(self):
        """Whether this connection's worker answers anything here at all."""
        return True

    def data_received(self, data):
        if self.sending is not None:
            self.held += data
            return
        if self._at_request_start():
            data = self._answer_plain(data)
            if not data:
                return
        super().data_received(data)

    def _at_request_start(self):
        """Between requests with nothing of the next one read yet, and nothing that rules out an answer
        from here: the connection loop is idle waiting, and the parser's buffer is empty (gunicorn's
        Python parser's: gunicorn_h1c's buffer is not visible, so a worker answering here keeps that one)."""
        return (self._current_request is None and not self.refused and not self._closed
                and not getattr(self._callback_parser, "_buffer", True) and self._keepalive
                and self.worker.alive and self.answers_plain() and not self.log.access_log_enabled)

    def _answer_plain(self, data):
        """Answer the plain requests at the start of `data`; what is left for gunicorn."""
        worker, start = self.worker, 0
        while worker.nr + 1 < worker.max_requests and self.transport.get_write_buffer_size() <= MOST_UNSENT:
            head = plain_head(data, start)
            if head is None:
                break
            method, path, query, fields, end = head
            answer = self.plain_answer(method, path, query, fields)
            if answer is None:
                break
            if answer.__class__ is not tuple:  # a future: made off the loop, written when it is done
                self.held = data[end:]
                self._pause_reading()
                self.sending = worker.loop.create_task(self._answer_later(answer, data[start:end], method == b"GET"))
                start = len(data)
                break
            status_and_fields, body = answer
            start = end
            if body.__class__ is bytes:
                self._write_answer(status_and_fields, body, method == b"GET")
            else:
                self._write_answer(status_and_fields, b"", False)  # the head; the file follows
                if not self._write_file(body, method == b"GET"):
                    self.held = data[start:]
                    start = len(data)
                    break
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

    def _write_file(self, body, whole):
        """Send `body` (an OpenFile; only its head if not `whole`) at once if the socket takes it: True;
        else False, and a task sends the rest while the connection reads nothing more."""
        try:
            sent = send_now(self.transport, body.fd, body.size) if whole else 0
        except OSError:  # the client went away: nothing more is answered
            os.close(body.fd)
            self.transport.abort()
            return False
        if not whole or sent >= body.size:
            os.close(body.fd)
            return True
        self._pause_reading()
        self.sending = self.worker.loop.create_task(self._write_rest(body, sent))
        return False

    async def _write_rest(self, body, sent):
        try:
            await send_rest(self.worker.loop, self.transport, body.fd, sent, body.size)
        except (OSError, RuntimeError):  # the client went away (RuntimeError: transport closing)
            self.transport.abort()
            return
        finally:
            os.close(body.fd)
            self.sending = None
        self.answered_at = self.worker.loop.time()  # its keep-alive counts from the end of the answer
        self._go_on()

    def _go_on(self):
        """Read again, and handle what came while an answer was on its way."""
        held, self.held = self.held, b""
        self._resume_reading()
        if held and not self._closed:
            self.data_received(held)

    async def _answer_later(self, pending, head, whole):
        """Write the answer `pending` makes to the request `head` once it is made, then go on with what
        came meanwhile; if it makes none (None, or it failed), gunicorn answers the request instead."""
        try:
            answer = await pending
        except Exception:  # noqa: BLE001 - gunicorn and the app answer it again, and log what failed
            answer = None
        finally:
            self.sending = None
        if self._closed:
            return
        if answer is None:
            held, self.held = self.held, b""
            self._resume_reading()
            super().data_received(head + held)
            return
        self._write_answer(*answer, whole)
        self.answered_at = self.worker.loop.time()
        self._go_on()

    def _write_answer(self, status_and_fields, body, whole):
        """Write an answer whose body is bytes (only its head if not `whole`), counted as a request."""
        self.worker.nr += 1
        self.transport.write(b"".join((status_and_fields, date_line(), b"\r\n", body if whole else b"")))

    def _idle_check(self):
        """gunicorn's keep-alive timeout for connections answered from data_received: armed once per
        timeout rather than per answer. A request in progress has its own deadlines, and gunicorn's
        connection loop re-arms this timer (cancelling ours) once it has served one."""
        self._keepalive_handle = self.idle_timer = None
        if self._closed or self._current_request is not None or self.head_since is not None:
            return
        if self.sending is not None:  # a slow reader: the rest of a file is on its way
            self._keepalive_handle = self.idle_timer = self.worker.loop.call_later(self._keepalive, self._idle_check)
            return
        left = self.answered_at + self._keepalive - self.worker.loop.time()
        if left > 0:
            self._keepalive_handle = self.idle_timer = self.worker.loop.call_later(left, self._idle_check)
        else:
            self._keepalive_timeout()


def send_now(transport, fd, size):
    """The bytes of `fd` (from its start) that sendfile(2) puts straight into the transport's socket
    now: 0 if the socket is full, or bytes the transport holds must go first. Raises OSError if the
    client went away."""
    if transport.get_write_buffer_size():
        return 0
    try:
        return os.sendfile(transport.get_extra_info("socket").fileno(), fd, 0, size)
    except BlockingIOError:
        return 0


async def send_rest(loop, transport, fd, sent, size):
    """Send the rest of `fd` from `sent` as the client reads (the loop's sendfile); the bytes sent."""
    with open(fd, "rb", buffering=0, closefd=False) as file:
        return await loop.sendfile(transport, file, sent, size - sent)


_date = [None, b""]  # (second, its Date line), made once a second


def date_line():
    now = int(time.time())
    if _date[0] != now:
        _date[:] = now, f"Date: {http_date(now)}\r\n".encode("latin-1")
    return _date[1]
