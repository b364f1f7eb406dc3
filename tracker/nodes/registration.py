"""`POST /api/v1/videos`: an edge registers a video it published from an upload it was given."""
from flask import Blueprint

from protocol.ids import is_video_id
from protocol.manifest import is_file_name

from .. import clock, fields, metrics, signed
from .models import Node

bp = Blueprint("registration", __name__)

MAX_RENDITIONS = 16


@bp.post("/api/v1/videos")
def register():
    video = Node.register_video(read_registration(fields.json_body()), clock.now())
    metrics.current().registrations.inc()
    return {"video_id": video.id}, 201


def read_registration(body):
    payload = signed.verified_payload(body)
    if not is_video_id(payload.get("video_id")):
        raise fields.invalid("video_id", "must be 40 lowercase hex characters")
    poster = payload.get("poster")
    if poster is not None and not is_file_name(poster):
        raise fields.invalid("poster", "must be a file name of the package, or null")
    return {
        "node": payload["node"],
        "timestamp": payload["timestamp"],
        "upload": fields.text(payload, "upload", 1, 64),
        "video_id": payload["video_id"],
        "duration": fields.number(payload, "duration"),
        "renditions": read_renditions(payload.get("renditions")),
        "poster": poster,
        "size": fields.integer(payload, "size"),
    }


def read_renditions(renditions):
    if not isinstance(renditions, list) or not 1 <= len(renditions) <= MAX_RENDITIONS \
            or not all(isinstance(r, dict) for r in renditions):
        raise fields.invalid("renditions", f"must be a list of 1 to {MAX_RENDITIONS} objects")
    return [{
        "name": fields.text(r, "name", 1, 64),
        # null for an audio-only source's single rendition
        "width": fields.integer(r, "width", 1, 16384, nullable=True),
        "height": fields.integer(r, "height", 1, 16384, nullable=True),
        "bandwidth": fields.integer(r, "bandwidth", 1),
    } for r in renditions]
