"""The hot path: a plain GET or HEAD of a package file, answered before Flask sees the request.

Players fetch segments and playlists thousands of times a second, and Flask's request context,
routing and hooks cost more than sending the bytes (bench/edge.py). `FastFiles.find` answers exactly
the common case, with the checks and headers edge/serving.py uses too (edge/published.py): an id and
name the published manifest lists, a regular file (no symlink) of the listed size. The edge's
gunicorn worker (edge/worker.py) asks it first and sends the file itself with sendfile; as WSGI
middleware (any other server) it sends the file through the WSGI file wrapper. Anything else (Range, conditional
headers, unknown names, X-Accel-Redirect mode, other methods) goes on to Flask unchanged, which
answers it fully.
"""
import os
from collections import namedtuple

from .cors import EVERY_ANSWER
from .published import file_headers

# Headers that make the answer depend on more than the path: Flask's full path handles them.
CONDITIONAL = ("range", "if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range")
CONDITIONAL_ENVIRON = tuple("HTTP_" + name.upper().replace("-", "_") for name in CONDITIONAL)
CONDITIONAL_BYTES = frozenset(name.encode() for name in CONDITIONAL)

# An open file to send whole: its descriptor (the caller closes it), size and response headers.
Found = namedtuple("Found", "fd size headers")


class FastFiles:
    def __init__(self, wsgi_app, flask_app):
        self.wsgi_app, self.flask_app = wsgi_app, flask_app
        self.cache = flask_app.extensions["edge.manifests"]

    def __call__(self, environ, start_response):
        found = None
        if not any(h in environ for h in CONDITIONAL_ENVIRON):
            found = self.find(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        if found is None:
            return self.wsgi_app(environ, start_response)
        start_response("200 OK", found.headers)
        file = os.fdopen(found.fd, "rb")
        if environ["REQUEST_METHOD"] == "HEAD":
            file.close()
            return []
        wrapper = environ.get("wsgi.file_wrapper")
        return wrapper(file, 1 << 16) if wrapper else _chunks(file)

    def find(self, method, path):
        """The published file a plain GET or HEAD of `path` answers with, or None to let Flask answer.
        The caller has checked that no conditional header (CONDITIONAL) came with the request."""
        if method not in ("GET", "HEAD") or not path.startswith("/videos/") \
                or self.flask_app.config["EDGE_ACCEL_REDIRECT"]:
            return None
        parts = path.split("/")
        if len(parts) != 4:
            return None
        _, _, video_id, name = parts
        opened = self.cache.open(video_id, name)
        if opened is None:
            return None
        fd, info, sha256 = opened
        return Found(fd, info.st_size, file_headers(name, info, sha256) + EVERY_ANSWER)


def _chunks(file):
    with file:
        while chunk := file.read(1 << 16):
            yield chunk


def init_app(app):
    app.wsgi_app = FastFiles(app.wsgi_app, app)
