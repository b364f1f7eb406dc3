"""The tracker as an ASGI app, for gunicorn's asyncio worker (runtime.worker.SharingWorker, gunicorn.conf.py).

BitTorrent's `/announce` and `/scrape` are the tracker's hot path: thousands of small requests a
second, each a few dict and SQLite reads. gunicorn's thread worker spends more per request on its
own machinery (poller, thread pool hand-off, parsing) than the tracker spends answering, so the
tracker runs under gunicorn's asyncio worker instead: those two paths are answered right on the
event loop (they never wait on the network), and every other request goes to the Flask app on a
pool of threads (a2wsgi), where blocking work (federation lookups, database writes) belongs.
"""
from runtime.bodies import FlaskOnThreads

from .bittorrent.frontend import HEADERS, METHODS, NOT_ALLOWED, NOT_ALLOWED_HEADERS
from .webrtc.signalling import Signalling

START = {"type": "http.response.start", "status": 200,
         "headers": [(k.lower().encode(), v.encode()) for k, v in HEADERS]}
REFUSE = {"type": "http.response.start", "status": 405,
          "headers": [(k.lower().encode(), v.encode()) for k, v in NOT_ALLOWED_HEADERS]}
BITTORRENT_PATHS = ("/announce", "/scrape")


class TrackerASGI:
    """`wsgi:app` for the tracker role: ASGI when called with three arguments (gunicorn's asgi
    worker), the plain Flask WSGI app with two (any other worker class, or a WSGI server)."""

    def __init__(self, flask_app, threads):
        self.wsgi_app = flask_app
        self.bittorrent = flask_app.extensions["tracker.bittorrent"]
        self.signalling = Signalling(flask_app)  # edges' WebSockets (webrtc/signalling.py)
        # Request bodies are received on the event loop before a thread sees them (runtime/bodies.py).
        self.flask = FlaskOnThreads(flask_app, threads, limit=flask_app.config["MAX_CONTENT_LENGTH"],
                                    spool_dir=flask_app.config["SLIPSTREAM_DATA_DIR"])

    def __call__(self, *args):
        return self.asgi(*args) if len(args) == 3 else self.wsgi_app(*args)

    async def asgi(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http" and scope["path"] in BITTORRENT_PATHS:
            if scope["method"] not in METHODS:
                await send(REFUSE)
                await send({"type": "http.response.body", "body": NOT_ALLOWED})
                return
            client = ((scope.get("client") or ("",))[0], lambda: forwarded_for(scope))
            body = self.bittorrent.answer(scope["path"], scope["query_string"], client)
            await send({**START, "headers": START["headers"] + [(b"content-length", b"%d" % len(body))]})
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
        elif kind == "websocket":
            await self.signalling(scope, receive, send)
        elif kind == "lifespan":
            await lifespan(receive, send)
        else:
            await self.flask(scope, receive, send)


def forwarded_for(scope):
    return ",".join(v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for")


async def lifespan(receive, send):
    """Nothing to set up or tear down: the Flask app was built at import."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
