"""Following the peers' change feeds (README.md, "One network").

One process of the tracker follows (the holder of gossip.lock in the data dir; on PostgreSQL, one
round at a time among all processes on any host, by an advisory lock, as the auditor does). Every
TRACKER_SYNC_INTERVAL seconds it asks each of TRACKER_PEERS for the changes after its cursor, in
batches of TRACKER_SYNC_BATCH, through the guarded client (checked addresses, no redirects, a
deadline, a size cap); while batches come full it asks again at once. Each change is checked
(records.py); one that fails is counted and dropped, never stored. The accepted ones and the new
cursor are written in one transaction, so a restart resumes where the last batch ended, and a
crash mid-batch repeats that batch, which changes nothing (a change not newer than the one held is
skipped). A peer that fails is asked again after a back-off that doubles up to MAX_BACKOFF.
"""
import json
import logging
import time

from peewee import BigIntegerField, CharField
from prometheus_client import Counter

from protocol.http import GuardedClient, UnsafeRequest

from ..background import start_alone
from ..db import PG_GOSSIP_LOCK, BaseModel, database, only_process, write_transaction
from .records import BadChange, checked
from .store import RESULTS, store

log = logging.getLogger(__name__)

CHANGE_BYTES = 32 * 1024  # room for one change: 5,000 characters of description, JSON-escaped
DEADLINE = 30.0  # seconds one batch may take
MAX_BACKOFF = 600.0  # seconds between tries of a peer that keeps failing
MAX_ROUNDS = 50  # full batches from one peer before the others get their turn
MAX_CURSOR = 64


class PeerCursor(BaseModel):
    peer = CharField(primary_key=True, max_length=2048)
    cursor = CharField(max_length=MAX_CURSOR, default="")
    changes = BigIntegerField(default=0)  # changes read from it, whatever became of them


class PeerFailed(Exception):
    """A peer's feed could not be read, or its answer was not a feed's."""


class Follower:
    """The state of following every peer: when each is next due, and its failures in a row."""

    def __init__(self, app):
        config = app.config
        self.app, self.config = app, config
        self.client = GuardedClient(allow_private=config["TRACKER_ALLOW_PRIVATE"], deadline=DEADLINE,
                                    max_bytes=config["TRACKER_SYNC_BATCH"] * CHANGE_BYTES)
        self.due, self.failures = {}, {}
        registry = app.extensions["tracker.metrics"].registry
        self.results = Counter("tracker_gossip_changes", "Changes read from peers' feeds, by what became of them",
                               ["result"], registry=registry)
        self.pulls = Counter("tracker_gossip_pulls", "Batches asked of peers' feeds, by result",
                             ["result"], registry=registry)
        for result in RESULTS:
            self.results.labels(result)
        for result in ("ok", "failed"):
            self.pulls.labels(result)

    def peers(self):
        return [peer.rstrip("/") for peer in self.config["TRACKER_PEERS"]]

    def round(self, now):
        """Follow every peer that is due; return the seconds until the next one is."""
        with self.app.app_context(), database.connection_context(), only_process(PG_GOSSIP_LOCK) as alone:
            if alone:
                for peer in self.peers():
                    if self.due.get(peer, 0) <= now:
                        self.follow(peer, now)
        interval = self.config["TRACKER_SYNC_INTERVAL"]
        return max(min((self.due.get(peer, now) for peer in self.peers()), default=now + interval) - now, 0.05)

    def follow(self, peer, now):
        try:
            for _ in range(MAX_ROUNDS):
                if self.pull(peer) < self.config["TRACKER_SYNC_BATCH"]:
                    break
        except PeerFailed as exc:
            self.pulls.labels("failed").inc()
            failures = self.failures[peer] = self.failures.get(peer, 0) + 1
            wait = min(self.config["TRACKER_SYNC_INTERVAL"] * 2 ** failures, MAX_BACKOFF)
            log.warning("the change feed of %s failed (%d in a row, next try in %.0f s): %s", peer, failures,
                        wait, exc)
            self.due[peer] = now + wait
            return
        self.failures.pop(peer, None)
        self.due[peer] = now + self.config["TRACKER_SYNC_INTERVAL"]

    def pull(self, peer):
        """Read and store one batch of `peer`'s feed; return how many changes it had."""
        state = PeerCursor.get_or_none(PeerCursor.peer == peer) or PeerCursor(peer=peer)
        changes, after = self.read(peer, state.cursor)
        results, accepted = [], []
        for change in changes:
            try:
                accepted.append((change, checked(change, self.config["TRACKER_ALLOW_PRIVATE"])))
            except BadChange as exc:
                log.warning("refused a change from %s's feed: %s", peer, exc)
                results.append("refused")
        me = self.config["TRACKER_ID"]
        with write_transaction():
            results += store(accepted, me, self.config["CLOCK"]())
            PeerCursor.insert(peer=peer, cursor=after, changes=state.changes + len(changes)).on_conflict(
                conflict_target=[PeerCursor.peer],
                update={PeerCursor.cursor: after, PeerCursor.changes: state.changes + len(changes)}).execute()
        for result in results:
            self.results.labels(result).inc()
        self.pulls.labels("ok").inc()
        return len(changes)

    def read(self, peer, cursor):
        batch = self.config["TRACKER_SYNC_BATCH"]
        try:
            answer = self.client.request("GET", f"{peer}/api/v1/catalog/changes",
                                         params={"since": cursor, "limit": batch})
        except UnsafeRequest as exc:
            raise PeerFailed(str(exc)) from None
        body = json_object(answer.body)
        changes, after = body.get("changes"), body.get("next")
        if answer.status != 200 or not isinstance(changes, list) or len(changes) > batch \
                or not isinstance(after, str) or not 0 < len(after) <= MAX_CURSOR or not after.isprintable():
            raise PeerFailed(f"{peer} answered {answer.status} without a change feed")
        return changes, after


def json_object(body):
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def init_app(app):
    """The follower, and its thread where this process may run it."""
    follower = app.extensions["tracker.follower"] = Follower(app)
    config = app.config
    if not config["TRACKER_BACKGROUND"] or not config["TRACKER_PEERS"]:
        return
    # Another worker may hold the lock and follow.
    app.extensions["tracker.follower_thread"] = start_alone(
        app, "gossip.lock", "tracker-gossip", lambda: follower.round(time.monotonic()),
        config["TRACKER_SYNC_INTERVAL"])


MODELS = [PeerCursor]
