"""`POST /api/v1/videos`: an edge registers a video it published from an upload it was given.

Nothing in the request is believed but its signature and the two ids it names (README.md, trust
model): the upload must be one this tracker placed on this node, once; the tracker fetches the
manifest from the node's proven URL, checks that it hashes to the video id, that its sizes are
non-negative integers adding up to no more than the upload allows, and audits sample files. The
package's size, duration, renditions and poster come from that checked manifest; title, description
and creator from the placement request.
"""
from flask import Blueprint, current_app

from protocol.ids import is_video_id
from protocol.manifest import is_file_name

from .. import clock, fields, metrics, signed
from ..errors import ApiError
from ..refusals import Unproven
from .audits import AuditFailed, audit
from .models import Node

bp = Blueprint("registration", __name__)

MAX_RENDITIONS = 16
PACKAGE_SLACK = 16 * 1024 * 1024  # a tiny upload still makes playlists, a poster and thumbnails


@bp.post("/api/v1/videos")
def register():
    payload = read_registration(fields.json_body())
    node, upload = Node.upload_for(payload)
    package = checked_package(node, payload["video_id"], upload.size)
    video = Node.register_video(payload, package, clock.now())
    metrics.current().registrations.inc()
    return {"video_id": video.id}, 201


def read_registration(body):
    payload = signed.verified_payload(body)
    if not is_video_id(payload.get("video_id")):
        raise fields.invalid("video_id", "must be 40 lowercase hex characters")
    return {
        "node": payload["node"],
        "timestamp": payload["timestamp"],
        "upload": fields.text(payload, "upload", 1, 64),
        "video_id": payload["video_id"],
    }


def checked_package(node, video_id, upload_size):
    """The facts of the package, from its manifest as served at the node's proven URL and audited."""
    config = current_app.config
    if node.proven_url is None or node.proven_url != node.url:
        raise Unproven("url_not_proven", "this node's URL is not proven yet: announce first")
    limit = upload_size * config["TRACKER_PACKAGE_FACTOR"] + PACKAGE_SLACK
    try:
        manifest, size = audit(current_app.extensions["tracker.checker"], node.proven_url, video_id,
                               config["TRACKER_AUDIT_SAMPLES"], max_size=limit)
    except AuditFailed as exc:
        raise Unproven("bad_package", f"the package at {node.proven_url} failed its check: {exc}") from None
    try:
        poster = manifest.get("poster")
        if poster is not None and not (is_file_name(poster) and poster in manifest["files"]):
            raise fields.invalid("poster", "must be a file of the package, or null")
        return {"size": size, "duration": fields.number(manifest, "duration"),
                "renditions": read_renditions(manifest.get("renditions")), "poster": poster}
    except ApiError as exc:
        raise Unproven("bad_package", f"the manifest is not a package's: {exc.message}") from None


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
