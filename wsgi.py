"""Entry point for gunicorn: `SLIPSTREAM_ROLE=tracker|edge gunicorn wsgi:app`."""
import os

ROLE = os.environ.get("SLIPSTREAM_ROLE", "tracker")

if ROLE == "tracker":
    from tracker import create_app
elif ROLE == "edge":
    from edge import create_app
else:
    raise SystemExit(f"SLIPSTREAM_ROLE must be 'tracker' or 'edge', not {ROLE!r}")

app = create_app()
