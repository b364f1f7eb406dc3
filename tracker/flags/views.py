"""Flags' API: anyone flags a video (rate-limited per address); the operator lists flagged videos and
dismisses their flags, or takes the video down (the takedown is its own route)."""
from flask import Blueprint, request

from .. import clock, fields, ratelimits
from ..admin import admin_only
from ..catalog.models import Video
from ..errors import ApiError
from .models import MAX_NOTE, REASONS, Flag

bp = Blueprint("flags", __name__)

PER_PAGE = 50


@bp.post("/api/v1/videos/<video_id>/flags")
def flag(video_id):
    ratelimits.take("flags")
    body = fields.json_body()
    video = Video.known(video_id)
    reason = body.get("reason")
    if reason not in REASONS:
        raise ApiError(400, "invalid_reason", f"reason must be one of {', '.join(REASONS)}")
    note = fields.text(body, "note", 0, MAX_NOTE, default="")
    counted = Flag.record(video.id, ratelimits.client(), reason, note, clock.now())
    return {"video_id": video.id, "reason": reason, "counted": counted}, 201


@bp.get("/api/v1/admin/flags")
@admin_only
def flagged():
    page = fields.page_number(request.args)
    groups, total = Flag.open_by_video(page, PER_PAGE)
    titles = dict(Video.select(Video.id, Video.title).where(Video.id.in_([g["video_id"] for g in groups])).tuples()) \
        if groups else {}
    videos = [{**group, "title": titles.get(group["video_id"]), "latest": clock.iso(group["latest"])} for group in groups]
    return {"videos": videos, "page": page, "per_page": PER_PAGE, "total": total}


@bp.post("/api/v1/admin/flags/<video_id>/dismiss")
@admin_only
def dismiss(video_id):
    dismissed = Flag.dismiss(video_id, clock.now())
    if not dismissed:
        raise ApiError(404, "no_open_flags", "this video has no open flags")
    return {"video_id": video_id, "dismissed": dismissed}
