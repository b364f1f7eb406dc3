"""Signing a catalog older than the change feed into it (catalog/changes.py, backfill), in the
background: a tracker upgraded over a million videos answers from its first second, and its feed
fills in batches, one write transaction each, so uploads and edits are never held up for longer
than one batch. Videos registered while it runs publish themselves as always; the backfill only
ever signs those that have no change yet, under the write lock, so it never replaces a newer one.

One process of the tracker does it (the holder of backfill.lock in the data dir; on PostgreSQL, by
an advisory lock among all processes on any host), then its thread ends: every video registered
after the feed existed has its change already.
"""
import logging
import time

from ..background import start_alone
from ..catalog.changes import backfill
from ..db import PG_BACKFILL_LOCK, database, only_process, write_transaction

log = logging.getLogger(__name__)

RETRY = 5.0  # seconds before trying again after a failed batch, or while another process does it


class Backfill:
    """Where the walk over the catalog stands: each video is read once, oldest first."""

    def __init__(self, app):
        self.app, self.after, self.batches, self.started = app, None, 0, time.monotonic()

    def step(self):
        """Sign one batch; return the seconds until the next (0: at once), or None when all are signed."""
        with self.app.app_context(), database.connection_context(), only_process(PG_BACKFILL_LOCK) as alone:
            if not alone:
                return RETRY
            with write_transaction():
                before, self.after = self.after, backfill(self.after)
        if self.after is None:
            if before is not None:
                log.info("signed the catalog into the change feed in %d batches, %.0f s", self.batches,
                         time.monotonic() - self.started)
            return None
        self.batches += 1
        return 0


def init_app(app):
    if app.config["TRACKER_BACKGROUND"]:
        app.extensions["tracker.backfill"] = start_alone(app, "backfill.lock", "tracker-backfill",
                                                         Backfill(app).step, RETRY)
