"""gunicorn's asyncio worker, accepting one connection per wake-up, with deadlines and caps: the base
of both roles' workers.

Under gunicorn's thread worker each request is handed from the poller to a thread and back, which
costs more CPU than either role spends answering its hot path (bench/edge.py, bench/tracker.py,
README). Both roles run on gunicorn's asyncio worker instead, with Flask on threads (a2wsgi) for
everything but that hot path: gunicorn.conf.py runs SharingWorker for the tracker (which answers
BitTorrent's /announce and /scrape on the event loop, tracker/asgi.py) and edge/worker.py's
EdgeWorker, a subclass that also sends published files with sendfile, for the edge.

Neither a slow client nor a crowd of connections may take a node down: each connection goes through
runtime/protocol.py (caps on open connections, a deadline for each request's head) and each body
is received on the event loop before a Flask thread sees it (runtime/bodies.py); the numbers are
SLIPSTREAM_* settings (runtime/settings.py's `limits`).
"""
import asyncio
import resource

from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers import gasgi

from . import settings
from .connections import Connections
from .protocol import GuardedProtocol

SPARE_DESCRIPTORS = 256  # beyond the connections: the database, logs, files being sent


class SharingLoop(asyncio.SelectorEventLoop):
    """asyncio's loop, accepting one connection per wake-up instead of up to 100.

    The workers share one listening socket. asyncio's loop accepts every connection waiting, so
    the first worker to wake takes a whole burst (wrk's 16 connections, a page's parallel
    fetches) and the other workers idle; taking one at a time, as nginx does by default
    (`multi_accept off`), lets the least busy worker take the next one.
    """

    def _accept_connection(self, protocol_factory, sock, sslcontext=None, server=None, backlog=100, *args):
        return super()._accept_connection(protocol_factory, sock, sslcontext, server, 1, *args)


class SharingWorker(gasgi.ASGIWorker):
    """gunicorn's asyncio worker on SharingLoop, guarded: the tracker's worker (gunicorn.conf.py)."""

    protocol = GuardedProtocol  # each connection's handler; the edge's worker sends files in its own
    # gunicorn_h1c's C parser (use_c_parser); the edge's answers from memory need to see the Python parser's
    # buffer, so its worker keeps that one (edge/worker.py).
    c_parser = True

    def init_process(self):
        self.connections = Connections(settings.limits())
        allow_descriptors(self.connections.limits.max_connections + SPARE_DESCRIPTORS)
        super().init_process()  # ends by calling run()

    def _setup_event_loop(self):
        self.loop = SharingLoop()  # not uvloop: it has no sendfile, which the edge's worker uses
        asyncio.set_event_loop(self.loop)

    def run(self):
        # gunicorn 27's ASGIWorker builds each connection's protocol from gasgi's module-level name;
        # in this worker process (forked, nothing else runs here) that name is ours.
        gasgi.ASGIProtocol = self.protocol
        if self.c_parser:
            use_c_parser()
        super().run()

    async def _serve(self):
        sweep = self.loop.create_task(self.connections.sweep(self.loop))
        try:
            await super()._serve()
        finally:
            sweep.cancel()


def use_c_parser():
    """Parse HTTP/1 heads with gunicorn's C parser (gunicorn_h1c, requirements.txt). gunicorn 27 picks it
    only where ASGIProtocol itself has checked for it: a subclass's check (GuardedProtocol's) fills in
    the subclass alone, so without this every connection fell back to the pure Python parser, a fifth
    of the CPU of a tracker's announce (README, "Benchmarks")."""
    ASGIProtocol._check_h1c_protocol_available()


def allow_descriptors(wanted):
    """Raise the soft limit on open files towards `wanted` (never past the hard limit), so that
    the connection cap, not a failing accept(), is what turns clients away (nginx's
    worker_rlimit_nofile)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
