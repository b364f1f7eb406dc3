"""The hot path: a plain GET or HEAD of a package file, answered before Flask sees the request.

Players fetch segments and playlists thousands of times a second, and Flask's request context,
routing and hooks cost more than sending the bytes (bench/edge.py). `FastFiles.find` answers exactly
the common case with the same checks and headers as edge/serving.py: an id and name the published
manifest lists, a regular file (no symlink) of the listed size. The edge's gunicorn worker
(edge/worker.py) asks it first and sends the file itself with sendfile; as WSGI middleware (any
other server) it sends the file through the WSGI file wrapper. Anything else (Range, conditional
headers, unknown names, X-Accel-Redirect mode, other methods) goes on to Flask unchanged, which
answers it fully.
"""
import os
import stat
from collections import namedtuple

from werkzeug.http import http_date
from werkzeug.utils import get_content_type

from .cors import EXPOSE_HEADERS
from .serving import ONE_YEAR, content_type

# Headers that make the answer depend on more than the path: Flask's full path handles them.
CONDITIONAL = ("range", "if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range")
CONDITIONAL_ENVIRON = tuple("HTTP_" + name.upper().replace("-", "_") for name in CONDITIONAL)
CONDITIONAL_BYTES = frozenset(name.encode() for name in CONDITIONAL)
CACHE_CONTROL = f"public, max-age={ONE_YEAR}, immutable"

# An open file to send whole: its descriptor (the caller closes it), size and response headers.
Found = namedtuple("Found", "fd size headers")


class FastFiles:
    def __init__(self, wsgi_app, flask_app):
        self.wsgi_app, self.flask_app = wsgi_app, flask_app
        self.node = flask_app.extensions["edge"]
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
        files = self.cache.files(video_id)
        if files is None or name not in files:
            return None
        try:
            fd = os.open(os.path.join(self.node.video_path(video_id), name), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != files[name]["size"]:
            os.close(fd)
            return None
        return Found(fd, info.st_size, [
            ("Content-Type", get_content_type(content_type(name), "utf-8")),
            ("Content-Length", str(info.st_size)),
            ("Last-Modified", http_date(info.st_mtime)),
            ("ETag", f'"{files[name]["sha256"]}"'),
            ("Cache-Control", CACHE_CONTROL),
            ("Accept-Ranges", "bytes"),
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Expose-Headers", EXPOSE_HEADERS),
            ("X-Content-Type-Options", "nosniff"),
        ])


def _chunks(file):
    with file:
        while chunk := file.read(1 << 16):
            yield chunk


def init_app(app):
    app.wsgi_app = FastFiles(app.wsgi_app, app)
