"""Audits (README.md, trust model): a copy counts only once the tracker has checked it.

An audit fetches the copy's manifest from the node, checks that it hashes to the video id and adds
up to the package's size, then fetches TRACKER_AUDIT_SAMPLES of its files, chosen at random, and
hashes them against it. A copy is audited when it is registered (inline) or first announced (by
the auditor thread, within a second), then again at random times, TRACKER_AUDIT_INTERVAL apart on
average. A failed or unanswered audit removes the copy at once and counts against the node, and
the replica target then has another edge pull the video.

Cost at the defaults: one manifest and two files per copy every 6 hours on average, 0.5 requests
per copy per hour; for a 60 s 1080p package (72 files averaging 1.2 MB) 2.5 MB an audit, 0.4 MB an
hour.
"""
import logging
import random

from protocol.errors import ManifestError
from protocol.http import GuardedClient, UnsafeRequest
from protocol.manifest import MANIFEST_NAME, check_bytes, package_size, parse_manifest

from ..background import start_alone
from ..db import database, only_process
from .models import Copy
from .reach import WEBRTC

log = logging.getLogger(__name__)

MAX_MANIFEST = 4 * 1024 * 1024
BATCH = 16  # copies audited per round
POLL = 0.5  # seconds the auditor sleeps when nothing is due
# Any constant works: every process of this tracker, on any host, asks for the same one.
PG_AUDIT_LOCK = 0x5_1105_7EA5


class AuditFailed(Exception):
    """A copy is not what its id promises, or its node did not show it."""


def audit(client, url, video_id, samples, expected_size=None, max_size=None, rng=random, fetch_file=None):
    """Check the copy of `video_id` at the edge `url`; return its verified manifest and size.
    `max_size` refuses a bigger package before any of its files is fetched. `fetch_file(name, cap)`
    fetches a file another way than over HTTP (a home edge's data channel, webrtc/audit.py)."""
    if fetch_file is None:
        fetch_file = lambda name, cap: fetch(client, f"{url}/videos/{video_id}/{name}", cap)
    body = fetch_file(MANIFEST_NAME, MAX_MANIFEST)
    try:
        manifest = parse_manifest(body, expected_id=video_id)
        size = package_size(body, manifest)
    except ManifestError as exc:
        raise AuditFailed(str(exc)) from None
    files = manifest["files"]
    if expected_size is not None and size != expected_size:
        raise AuditFailed(f"the package has {size} bytes, not the {expected_size} registered")
    if max_size is not None and size > max_size:
        raise AuditFailed(f"the package has {size} bytes, more than its upload can make ({max_size})")
    for name in rng.sample(sorted(files), min(samples, len(files))):
        data = fetch_file(name, max(files[name]["size"], 1))
        if not check_bytes(files[name], data):
            raise AuditFailed(f"{name} does not match the manifest")
    return manifest, size


def fetch(client, url, cap):
    try:
        answer = client.request("GET", url, max_bytes=cap)
    except UnsafeRequest as exc:
        raise AuditFailed(str(exc)) from None
    if answer.status != 200:
        raise AuditFailed(f"{url} answered {answer.status}")
    return answer.body


def run_pending(app, limit=BATCH, rng=random):
    """Audit the copies that are due; return how many were looked at. While one process of the
    tracker audits, another one's round (another host's, on the same PostgreSQL) does nothing, so
    no copy is audited twice at once."""
    config, client = app.config, app.extensions["tracker.checker"]
    now = config["CLOCK"]()
    with database.connection_context(), only_process(PG_AUDIT_LOCK) as alone:
        due = Copy.due(now, config["TRACKER_NODE_TTL"], limit) if alone else []
        for node_id, url, reach, video_id, size in due:
            try:
                if reach == WEBRTC:  # nobody can open its URL: over a data channel, as a viewer
                    with app.extensions["tracker.channel_audits"](node_id, video_id) as fetch_file:
                        audit(client, url, video_id, config["TRACKER_AUDIT_SAMPLES"], size, rng=rng,
                              fetch_file=fetch_file)
                else:
                    audit(client, url, video_id, config["TRACKER_AUDIT_SAMPLES"], size, rng=rng)
            except AuditFailed as exc:
                log.warning("copy of %s on %s failed its audit: %s", video_id, node_id, exc)
                Copy.failed(node_id, video_id)
            else:
                Copy.passed(node_id, video_id, now, now + next_gap(config["TRACKER_AUDIT_INTERVAL"], rng))
    return len(due)


def next_gap(mean, rng):
    """Exponential gaps: a node cannot tell when its next audit comes, so it cannot hide between them."""
    return min(rng.expovariate(1 / mean), 10 * mean) if mean > 0 else 0.0


def init_app(app):
    """The guarded client for proofs and audits, and the auditor thread where this process may run it."""
    config = app.config
    app.extensions["tracker.checker"] = GuardedClient(allow_private=config["TRACKER_ALLOW_PRIVATE"],
                                                      deadline=config["TRACKER_CHECK_TIMEOUT"],
                                                      max_bytes=MAX_MANIFEST)
    if not config["TRACKER_BACKGROUND"]:
        return
    # Another worker may hold the lock and audit.
    app.extensions["tracker.auditor"] = start_alone(app, "auditor.lock", "tracker-auditor",
                                                    lambda: 0 if run_pending(app) else POLL, POLL)
