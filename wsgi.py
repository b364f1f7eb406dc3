"""Entry point for gunicorn: `SLIPSTREAM_ROLE=tracker|edge gunicorn wsgi:app`.

Both roles' apps speak ASGI (their gunicorn workers, chosen in gunicorn.conf.py: tracker/asgi.py,
edge/asgi.py) and WSGI (`-k gthread`, or any WSGI server).
"""
from runtime import settings

try:
    ROLE = settings.role()
except ValueError as exc:
    raise SystemExit(str(exc)) from None

if ROLE == "tracker":
    from tracker import create_app
else:
    from edge import create_app

app = create_app()
THREADS = settings.threads()
if ROLE == "tracker":
    from tracker.asgi import TrackerASGI
    app = TrackerASGI(app, threads=THREADS)
else:
    from edge.asgi import EdgeASGI
    app = EdgeASGI(app, threads=THREADS)
