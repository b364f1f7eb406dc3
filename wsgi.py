"""Entry point for gunicorn: `SLIPSTREAM_ROLE=tracker|edge gunicorn wsgi:app`.

Both roles' apps speak ASGI (their gunicorn workers, chosen in gunicorn.conf.py: tracker/asgi.py,
edge/asgi.py) and WSGI (`-k gthread`, or any WSGI server).
"""
import os

ROLE = os.environ.get("SLIPSTREAM_ROLE", "tracker")

if ROLE == "tracker":
    from tracker import create_app
elif ROLE == "edge":
    from edge import create_app
else:
    raise SystemExit(f"SLIPSTREAM_ROLE must be 'tracker' or 'edge', not {ROLE!r}")

app = create_app()
THREADS = int(os.environ.get("GUNICORN_THREADS", "8"))
if ROLE == "tracker":
    from tracker.asgi import TrackerASGI
    app = TrackerASGI(app, threads=THREADS)
else:
    from edge.asgi import EdgeASGI
    app = EdgeASGI(app, threads=THREADS)
