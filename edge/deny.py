"""The edge's own deny-list: videos its operator will not store, pull or serve, whatever a tracker says.

`python -m edge deny <id> [--reason]` / `allow <id>`, or `POST`/`DELETE /api/v1/deny/<id>` and
`GET /api/v1/deny` (bearer EDGE_ADMIN_TOKEN). Denying deletes the copy held here at once; from then on
an upload that turns out to be that video fails with nothing kept (edge/jobs.py), a tracker's
replicate task for it is refused (edge/replication.py), a request for its files is answered 451
Unavailable For Legal Reasons (RFC 7725; edge/serving.py), and announces no longer list it.

The hot path (edge/fastpath.py) needs no look-up of its own: a denied video's files are gone, so it
finds nothing and hands the request to Flask, which answers the 451.
"""
import logging

from flask import Blueprint, current_app, request

from protocol.ids import is_video_id

from .errors import ApiError
from .handover import check_admin
from .models import Denied, Job, db

log = logging.getLogger(__name__)
bp = Blueprint("deny", __name__)

MAX_REASON = 500


def is_denied(video_id):
    with db.connection_context():
        return Denied.select().where(Denied.video_id == video_id).exists()


def denied_ids():
    with db.connection_context():
        return {video_id for (video_id,) in Denied.select(Denied.video_id).tuples()}


def refuse_if_denied(video_id):
    """The 451 every path that would serve `video_id` answers once it is denied here."""
    if is_denied(video_id):
        raise ApiError(451, "denied", f"this edge's operator has denied the video {video_id}")


def deny(node, video_id, reason=""):
    """Deny `video_id`: recorded first (so nothing can publish it after this), then its copy deleted
    and any job still registering it failed. Returns whether a copy was held here."""
    with db.connection_context():
        Denied.insert(video_id=video_id, reason=reason).on_conflict(
            conflict_target=[Denied.video_id], update={Denied.reason: reason}).execute()
        for job in Job.select().where((Job.video_id == video_id) & (Job.state == "running")):
            job.fail(f"the video {video_id} was denied on this edge: {reason or 'no reason given'}", 451)
    held = video_id in node.published()
    node.unpublish(video_id)
    log.warning("video %s denied (%s)%s", video_id, reason or "no reason given", "; its copy deleted" if held else "")
    return held


def allow(video_id):
    """Take `video_id` off the deny-list; returns whether it was on it."""
    with db.connection_context():
        return Denied.delete().where(Denied.video_id == video_id).execute() > 0


def video_id_or_400(video_id):
    if not is_video_id(video_id):
        raise ApiError(400, "invalid_video_id", "a video id is 40 lowercase hex characters")
    return video_id


@bp.before_request
def operator_only():
    check_admin(current_app.config["EDGE_ADMIN_TOKEN"], request.headers.get("Authorization", ""))


@bp.get("/api/v1/deny")
def listing():
    with db.connection_context():
        return {"denied": [row.as_json() for row in Denied.select().order_by(Denied.created.desc())]}


@bp.post("/api/v1/deny/<video_id>")
def add(video_id):
    body = request.get_json(silent=True) if request.content_length else {}
    reason = body.get("reason") if isinstance(body, dict) else None
    reason = "" if isinstance(body, dict) and reason is None else reason
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise ApiError(400, "invalid_reason", f"reason must be a string of at most {MAX_REASON} characters")
    held = deny(current_app.extensions["edge"], video_id_or_400(video_id), reason.strip())
    current_app.extensions["edge.manifests"].forget(video_id)
    return {"video_id": video_id, "reason": reason.strip(), "deleted": held}, 201


@bp.delete("/api/v1/deny/<video_id>")
def remove(video_id):
    if not allow(video_id_or_400(video_id)):
        raise ApiError(404, "not_denied", "this video is not on this edge's deny-list")
    return {"video_id": video_id, "denied": False}
