"""Entry point for gunicorn: `SLIPSTREAM_ROLE=tracker|edge gunicorn wsgi:app`.

The tracker's app speaks both ASGI (gunicorn's asgi worker, its default: tracker/asgi.py) and WSGI.
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
if ROLE == "tracker":
    from tracker.asgi import TrackerASGI
    app = TrackerASGI(app, threads=int(os.environ.get("GUNICORN_THREADS", "8")))
