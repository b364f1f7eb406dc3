"""`POST /api/v1/nodes/announce`: an edge's signed announce, answered like a BitTorrent tracker."""
from flask import Blueprint, current_app

from protocol.ids import is_video_id

from .. import clock, fields, metrics, signed
from ..errors import ApiError
from ..refusals import Refused
from . import replication
from .models import Node
from .urls import check_node_url

bp = Blueprint("announce", __name__)

EVENTS = {"", "started", "stopped", "completed"}  # BEP 3's events


@bp.post("/api/v1/nodes/announce")
def announce():
    now = clock.now()
    try:
        node = Node.accept_announce(read_announce(fields.json_body()), now)
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
        "tasks": replication.tasks_for(node, now, current_app.config),
    }


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
        "videos": videos,
        "event": event,
    }
