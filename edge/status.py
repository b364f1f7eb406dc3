"""What an edge says about itself: node status, job status, health."""
from flask import Blueprint, current_app, jsonify

from .errors import ApiError
from .models import Job
from .space import report

bp = Blueprint("status", __name__)


def node_status(node):
    return {
        "node": node.id,
        "url": node.public_url,
        "tracker": node.tracker_key(),  # the first tracker's; None until it has answered an announce
        # pinned, the key of the latest answer, and whether they differ (edge/trackerkey.py)
        "tracker_key": node.tracker_pin.status(),
        "trackers": [{"url": tracker.url, **tracker.status()} for tracker in node.trackers],
        # What the announce says (edge/space.py); `reserved` is the part of `used` still promised to
        # uploads and replicas arriving.
        **report(node),
        "videos": node.published(),
        "jobs": Job.counts(),
    }


@bp.get("/api/v1/status")
def status():
    return jsonify(node_status(current_app.extensions["edge"]))


@bp.get("/api/v1/jobs/<job_id>")
def job(job_id):
    found = Job.find(job_id)
    if found is None:
        raise ApiError(404, "unknown_job", "no job with this id on this edge")
    return jsonify(found.as_json())


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")
