"""The operator's moderation (bearer TRACKER_ADMIN_TOKEN, admin.py): take a video down, which works
as its channel's deletion and keeps its id refused for good, and block or unblock a channel, whose
placements, edits, deletions and updates are then refused (403 `channel_blocked`)."""
from flask import Blueprint

from .. import clock, fields
from ..admin import admin_only
from ..catalog import changes
from ..catalog.models import Removal, Video
from ..db import write_transaction
from ..refusals import NotFound
from .models import Channel

bp = Blueprint("moderation", __name__)


@bp.post("/api/v1/admin/takedowns")
@admin_only
def take_down():
    body = fields.json_body()
    reason = fields.text(body, "reason", 1, 1000)
    with write_transaction():
        try:
            video = Video.known(body.get("video_id"))  # 400 for a malformed id, 410 once removed
        except NotFound:
            # Not listed here: recorded all the same, so that no edge carries it through this tracker.
            video = Video(id=body["video_id"])
        removal = Removal.remove(video, "takedown", reason, clock.now())
        changes.removed(removal)  # a peer's video too: this tracker stops relaying it
    return removal.as_item(), 201


@bp.post("/api/v1/admin/channels/<channel_id>/block")
@admin_only
def block(channel_id):
    return set_blocked(channel_id, True)


@bp.post("/api/v1/admin/channels/<channel_id>/unblock")
@admin_only
def unblock(channel_id):
    return set_blocked(channel_id, False)


def set_blocked(channel_id, blocked):
    fields.node_id({"channel": channel_id}, "channel")
    now = clock.now()
    with write_transaction():
        # A channel may be blocked before it ever signed anything here.
        Channel.insert(id=channel_id, created=now, updated=now, blocked=blocked).on_conflict(
            conflict_target=[Channel.id], update={Channel.blocked: blocked}).execute()
    return Channel.get_by_id(channel_id).as_item()
