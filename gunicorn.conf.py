"""gunicorn settings shared by both roles; every one can be overridden on the command line.

gunicorn itself binds 0.0.0.0:$PORT when $PORT is set (Heroku-style) and 127.0.0.1:8000 otherwise.
"""
import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# An edge sends files with sendfile from threads, so one worker streams a long segment while it
# answers playlists. A tracker answers many tiny BitTorrent requests: gunicorn's asyncio worker does
# that with far less per-request overhead, and runs the Flask part on GUNICORN_THREADS threads
# (tracker/asgi.py).
ROLE = os.environ.get("SLIPSTREAM_ROLE", "tracker")
if ROLE == "tracker":
    worker_class = "asgi"
else:
    worker_class = "gthread"
    threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Uploads of large videos take longer than gunicorn's 30 s default.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 5
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None


def on_starting(server):
    """In the master, before any worker forks: the tracker's tables and files are created here."""
    if ROLE == "tracker":
        from tracker import prepare
        config = prepare().config
        server.log.info("tracker database ready: %s", config["DATABASE_URL"].split("@")[-1])
