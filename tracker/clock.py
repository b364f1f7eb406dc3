"""The tracker's clock: Unix seconds, from the app's `CLOCK` (STYLE.md rule 10).

Whatever decides by time — node liveness, tickets and their reservations, replicate tasks, failure
reports, signed documents' freshness, caches — asks here, so tests move a fake clock instead of
sleeping. Only create_app's `config` argument sets it: no operator has a reason to, so it is not
an environment setting.
"""
from datetime import datetime, timezone

from flask import current_app


def now():
    return current_app.config["CLOCK"]()


def iso(stamp):
    """Unix seconds as the API writes a time: ISO 8601 in UTC, whole seconds, `Z`."""
    return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
