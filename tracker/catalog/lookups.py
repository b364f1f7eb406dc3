"""Sources lookups answered by the tracker's worker without gunicorn's request machinery or Flask's.

`GET /api/v1/videos/<id>/sources` is the lookup every viewer makes before the first frame, and at
network scale a worker spent far more on what surrounds it (gunicorn's parser and request object,
a2wsgi's hand-offs between the event loop and a Flask thread, Flask's request, routing and response)
than on its one statement (bench/scale.py, README "At network scale"). A plain GET or HEAD of it with
no query is taken here (tracker/worker.py): the answer is made on a thread of this worker's small
pool by the same code Flask's route runs (views.local_sources), and written as Flask would write it.
Anything that answer cannot give alone — a query (`hops`, a peer's lookup), an id that is invalid,
unknown or removed, a peer's video none of our edges holds, an error — goes to Flask, which answers it
in full (so every refusal keeps its one code path).
"""
import concurrent.futures
import re

from ..db import UNAVAILABLE, connect, database, drop_connection
from .views import local_sources

PATH = re.compile(rb"/api/v1/videos/([0-9a-f]{40})/sources")
HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\naccess-control-allow-origin: *\r\n"
        b"content-length: %d\r\n")


class Lookups:
    def __init__(self, flask_app, loop, threads):
        self.app, self.loop = flask_app, loop
        self.pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="lookups")

    def answer(self, path, query):
        """A future of the answer (runtime/plain.py) to a plain request of `path`, None if it is not a
        sources lookup this can answer."""
        match = None if query is not None else PATH.fullmatch(path)
        return match and self.loop.run_in_executor(self.pool, self._answer, match.group(1).decode())

    def _answer(self, video_id):
        """(status line and fields, body) of the lookup, or None: Flask answers it."""
        with self.app.app_context():
            # Each thread keeps its connection from one lookup to the next: taking one from the pool
            # costs PostgreSQL a round trip (the pool's check), as much as the lookup's own statements.
            connect(self.app)
            try:
                answer = local_sources(video_id)
            except UNAVAILABLE:
                drop_connection(database.obj)  # the next lookup connects afresh; Flask answers this one
                return None
            except Exception:  # noqa: BLE001 - Flask answers it again: its refusal, or its logged error
                return None
            if answer is None:
                return None
            # As Flask's jsonify outside debug mode: its provider's sorted keys and escapes, compact, a newline.
            body = f"{self.app.json.dumps(answer, separators=(',', ':'))}\n".encode()
        return HEAD % len(body), body
