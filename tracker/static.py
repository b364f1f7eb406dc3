"""The website's scripts and styles from memory, answered as their requests arrive (runtime/plain.py).

A cold watch page loads a dozen scripts and a stylesheet from the tracker (player/), hls.js among them,
and its player starts only once they have all run (bench/first_frame.py). Through gunicorn and Flask
each costs a worker a few milliseconds; from memory, a write. They change only when the tracker is
deployed again (or `npm ci` upgrades hls.js), so each worker keeps Flask's own answer to a plain GET of
each (the same status line, headers and bytes) and answers later ones with it. A file not held yet is
served by Flask as usual while a thread asks Flask for the copy; a copy older than REFRESH seconds is
asked for again the same way (the old one answering meanwhile), so a changed file shows within that.
Only the player's own files are held, listed once at start: a request for any other name is Flask's.
Conditional and Range requests are not plain (runtime/heads.py): Flask answers them, 304s included.
"""
import logging
import os
import time
from typing import NamedTuple

from werkzeug.test import create_environ, run_wsgi_app

log = logging.getLogger(__name__)

REFRESH = 60.0  # seconds
LARGEST = 2 << 20  # bytes: hls.min.js is about 610 KiB


class Copy(NamedTuple):
    head: bytes  # status line and headers, without Date and the blank line
    body: bytes
    taken: float  # time.monotonic() when Flask answered


class StaticFiles:
    def __init__(self, flask_app, submit):
        """`submit(function, path)` runs Flask's answer off the event loop (a thread pool)."""
        self.app, self.submit = flask_app, submit
        self.paths = player_files(flask_app)
        self.copies, self.asking = {}, set()

    def find(self, path):
        """The copy answering a plain GET of `path` (bytes), or None: Flask answers it."""
        if path not in self.paths:
            return None
        copy = self.copies.get(path)
        if (copy is None or time.monotonic() - copy.taken > REFRESH) and path not in self.asking:
            self.asking.add(path)
            self.submit(self._take, path)
        return copy

    def _take(self, path):
        try:
            app_iter, status, headers = run_wsgi_app(self.app, create_environ(path.decode()))
            try:
                body = b"".join(app_iter)
            finally:
                if hasattr(app_iter, "close"):
                    app_iter.close()
            if status.startswith("200 ") and "Set-Cookie" not in headers and len(body) <= LARGEST:
                head = b"HTTP/1.1 " + status.encode("latin-1") + b"\r\n" + b"".join(
                    f"{name}: {value}\r\n".encode("latin-1") for name, value in headers if name.lower() != "date")
                self.copies[path] = Copy(head, body, time.monotonic())
            else:
                self.copies.pop(path, None)
        except Exception:  # noqa: BLE001 - Flask keeps answering this path itself; the reason is logged
            log.exception("could not keep %s in memory", path)
        finally:
            self.asking.discard(path)


def player_files(flask_app):
    """The URL paths (bytes) of the player's static files, script bundles and vendored libraries, if the
    app mounts it."""
    blueprint = flask_app.blueprints.get("player")
    if blueprint is None or not blueprint.static_folder:
        return frozenset()
    from player.bundles import BUNDLES  # the tracker mounts the player (tracker/__init__.py)
    from player import vendor

    folder = blueprint.static_folder
    names = [f"{blueprint.static_url_path}/{name}" for name in os.listdir(folder)
             if os.path.isfile(os.path.join(folder, name))] + [f"{blueprint.static_url_path}/{name}" for name in BUNDLES]
    names += vendor.paths()
    return frozenset(name.encode() for name in names)
