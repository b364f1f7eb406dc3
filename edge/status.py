"""What an edge says about itself: node status, job status, health."""
from flask import Blueprint, current_app, jsonify

from .capacity import outstanding
from .errors import ApiError
from .models import Job

bp = Blueprint("status", __name__)


def node_status(node):
    return {
        "node": node.id,
        "url": node.public_url,
        "tracker": node.tracker_key(),  # None until the tracker has answered an announce
        "capacity": node.capacity,
        "used": node.used(),
        "reserved": outstanding(node),  # promised to uploads and replicas still arriving
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
