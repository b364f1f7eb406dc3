"""gunicorn settings shared by both roles; every one can be overridden on the command line.

gunicorn itself binds 0.0.0.0:$PORT when $PORT is set (Heroku-style) and 127.0.0.1:8000 otherwise.
"""
import os

from runtime import settings

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Both roles run on gunicorn's asyncio worker, which costs far less per request than its thread
# worker, with Flask on GUNICORN_THREADS threads for everything but their hot path: a tracker answers
# BitTorrent's tiny requests on the event loop (tracker/asgi.py), an edge sends published files with
# sendfile from it (edge/worker.py). GUNICORN_THREADS is read by wsgi.py (runtime/settings.py), not
# here: gunicorn's `threads` setting is for its thread worker (`-k gthread --threads N`).
ROLE = settings.role()
# Both are runtime/worker.py's SharingWorker (gunicorn's asyncio worker, accepting one connection per
# wake-up) answering their hot path's plain requests as they arrive (runtime/plain.py): the tracker's
# TrackerWorker announces and scrapes (tracker/worker.py), the edge's EdgeWorker small published files
# from memory, and the rest of its published files with sendfile (edge/worker.py).
worker_class = "tracker.worker.TrackerWorker" if ROLE == "tracker" else "edge.worker.EdgeWorker"
# Uploads of large videos take longer than gunicorn's 30 s default.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 5
# Seconds an idle kept-alive connection stays open (SLIPSTREAM_KEEPALIVE_TIMEOUT). The workers' other
# deadlines and caps (SLIPSTREAM_HEADER_TIMEOUT, ...) are read by the workers themselves
# (runtime/worker.py, runtime/bodies.py); reading them all here stops a malformed one before any
# worker starts.
keepalive = settings.limits().keepalive_timeout
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
# The signalling sockets' messages are session descriptions and proofs (tracker/webrtc/signalling.py):
# a few KiB, not gunicorn's 16 MiB default.
websocket_max_message_size = 64 * 1024


def on_starting(server):
    """In the master, before any worker forks: the tracker's tables and files are created here."""
    if ROLE == "tracker":
        from tracker import prepare
        config = prepare().config
        server.log.info("tracker database ready: %s", config["DATABASE_URL"].split("@")[-1])
