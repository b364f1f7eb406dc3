"""`POST /api/v1/nodes/announce`: an edge's signed announce, answered like a BitTorrent tracker.

What it claims is checked before it counts (README.md, trust model): its URL is proven before the
node is listed (nodes/proofs.py), the copies it lists count once audited (nodes/audits.py), its
capacity is believed as far as it has earned it (Node.usable_capacity). The answer's tasks tell it
what to pull, what it may now delete after a hand-over, and what was removed (deleted by its channel
or taken down), which it deletes at once.
"""
from flask import Blueprint, current_app

from protocol.ids import is_video_id

from .. import clock, fields, metrics, signed
from ..catalog.models import Removal
from ..errors import ApiError
from ..refusals import Conflict, Refused, Unproven
from . import replication
from .models import WEBRTC, Node, refuse_replay
from .proofs import needs_proof, prove_url
from .sockets import SignalSocket
from .urls import check_node_url

bp = Blueprint("announce", __name__)

EVENTS = {"", "started", "stopped", "completed"}  # BEP 3's events


@bp.post("/api/v1/nodes/announce")
def announce():
    now = clock.now()
    try:
        payload = read_announce(fields.json_body())
        node = accept(payload, now)
    except (ApiError, Refused):
        metrics.current().announces.labels("refused").inc()
        raise
    metrics.current().announces.labels("stopped" if node.stopped else "accepted").inc()
    interval = current_app.config["TRACKER_ANNOUNCE_INTERVAL"]
    return {
        "interval": interval,
        # BEP 3 clients must not announce more often than this.
        "min interval": interval // 2,
        "tracker": current_app.config["TRACKER_ID"],
        "tasks": removals(payload["videos"]) + replication.tasks_for(node, now, current_app.config),
    }


def removals(video_ids):
    """A `remove` task for each announced video that was deleted or taken down: the edge deletes its
    copy at once (README.md, channels). Sent at every announce until the edge stops listing it."""
    return [{"action": "remove", "video_id": r.video, "reason": r.kind} for r in Removal.among(video_ids)]


def accept(payload, now):
    """Check what must be checked before anything is written, then record the announce."""
    config = current_app.config
    node = Node.get_or_none(Node.id == payload["node"])
    if node is not None:
        refuse_replay(payload["timestamp"], node.last_timestamp)  # before any request goes out
    proven_at = reach = None
    if payload["event"] != "stopped" and needs_proof(node, payload["url"], now, config["TRACKER_PROOF_INTERVAL"]):
        holder = Node.url_holder(payload["url"], now, config["TRACKER_NODE_TTL"])
        if holder is not None and holder.id != payload["node"]:
            raise Conflict("url_taken", "another live node has proven this URL")
        reach = measure_reach(payload["node"], payload["url"], now)
        proven_at = now
    return Node.accept_announce(payload, now, config, proven_at, reach)


def measure_reach(node_id, url, now):
    """How viewers can reach the node (README.md, "Home edges"): over its URL's scheme when the tracker
    could open it (an https URL only with a certificate the tracker's client verified), else over WebRTC
    when its live signalling socket proved its key for that URL; otherwise the announce is refused."""
    try:
        prove_url(node_id, url)
    except Unproven:
        if not SignalSocket.vouches(node_id, url, now):
            raise
        return WEBRTC
    return url.partition(":")[0]


def read_announce(body):
    payload = signed.verified_payload(body)
    videos = payload.get("videos", [])
    if not isinstance(videos, list) or not all(is_video_id(v) for v in videos):
        raise fields.invalid("videos", "must be a list of video ids (40 lowercase hex characters)")
    event = payload.get("event") or ""
    if event not in EVENTS:
        raise fields.invalid("event", f"must be one of {sorted(EVENTS)}")
    return {
        "node": payload["node"],
        "timestamp": payload["timestamp"],
        "url": check_node_url(payload.get("url"), current_app.config["TRACKER_ALLOW_PRIVATE"]),
        "capacity": fields.integer(payload, "capacity"),
        "used": fields.integer(payload, "used"),
        # The disk it reports free (statvfs, less its margin): capacity is the smaller figure.
        "free": fields.integer(payload, "free", nullable=True),
        "videos": videos,
        "event": event,
    }
