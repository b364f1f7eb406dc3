"""gunicorn's asyncio worker, accepting one connection per wake-up: the base of both roles' workers.

Under gunicorn's thread worker each request is handed from the poller to a thread and back, which
costs more CPU than either role spends answering its hot path (bench/edge.py, bench/tracker.py,
README). Both roles run on gunicorn's asyncio worker instead, with Flask on threads (a2wsgi) for
everything but that hot path: gunicorn.conf.py runs SharingWorker for the tracker (which answers
BitTorrent's /announce and /scrape on the event loop, tracker/asgi.py) and edge/worker.py's
EdgeWorker, a subclass that also sends published files with sendfile, for the edge.
"""
import asyncio

from gunicorn.workers import gasgi


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
    """gunicorn's asyncio worker on SharingLoop: the tracker's worker (gunicorn.conf.py)."""

    def _setup_event_loop(self):
        self.loop = SharingLoop()  # not uvloop: it has no sendfile, which the edge's worker uses
        asyncio.set_event_loop(self.loop)
