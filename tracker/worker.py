"""The tracker's gunicorn worker: BitTorrent's announces and scrapes answered as they arrive.

Announces are the tracker's hot path (thousands a second from BitTorrent clients). tracker/asgi.py
answers them on the event loop, but each still went through gunicorn's parser, request object, task
and ASGI events, which cost more than the answer (README "Benchmarks"); a plain GET of /announce or
/scrape is answered from data_received instead (runtime/plain.py), the same answer from the same
code (tracker/bittorrent/frontend.py). So are the viewers' sources lookups, made on a thread
(tracker/catalog/lookups.py), and plain GETs of the website's scripts and styles, from
memory (tracker/static.py). Anything else — another method, a head with a body or an
Upgrade, Connection: close — goes through gunicorn and tracker/asgi.py as before.
"""
from runtime import settings
from runtime.heads import field_values
from runtime.plain import PlainProtocol
from runtime.worker import SharingWorker

from .bittorrent.frontend import HEADERS
from .catalog.lookups import Lookups
from .static import StaticFiles

STATUS_AND_FIELDS = b"HTTP/1.1 200 OK\r\n" + b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in HEADERS)
PATHS = (b"/announce", b"/scrape")


class AnnounceProtocol(PlainProtocol):
    def plain_answer(self, method, path, query, fields):
        if path not in PATHS:
            lookup = self.worker.lookups.answer(path, query)
            if lookup is not None:
                return lookup
            copy = self.worker.static.find(path) if query is None else None
            return None if copy is None else (copy.head, copy.body)
        peer = (self.transport.get_extra_info("peername") or ("",))[0]
        try:
            body = self.worker.bittorrent.answer(path.decode(), query or b"", (
                peer, lambda: field_values(fields, b"x-forwarded-for").decode("latin-1")))
        except Exception:  # noqa: BLE001 - gunicorn and tracker/asgi.py answer it again, and log what failed
            return None
        return STATUS_AND_FIELDS + b"Content-Length: %d\r\n" % len(body), body


class TrackerWorker(SharingWorker):
    protocol = AnnounceProtocol
    c_parser = False  # answers from data_received must see that nothing of the next request is buffered

    def load_wsgi(self):
        super().load_wsgi()
        self.bittorrent = self.asgi.bittorrent  # wsgi:app is tracker/asgi.py's TrackerASGI
        self.lookups = Lookups(self.asgi.wsgi_app, self.loop, settings.threads())
        self.static = StaticFiles(self.asgi.wsgi_app, lambda take, path: self.loop.run_in_executor(None, take, path))
