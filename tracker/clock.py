"""The tracker's clock: Unix seconds, from the app's `CLOCK` (STYLE.md rule 10).

Whatever decides by time — node liveness, tickets and their reservations, replicate tasks, failure
reports, signed documents' freshness, caches — asks here, so tests move a fake clock instead of
sleeping. Only create_app's `config` argument sets it: no operator has a reason to, so it is not
an environment setting.
"""
from flask import current_app


def now():
    return current_app.config["CLOCK"]()
