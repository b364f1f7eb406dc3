"""POST /api/v1/uploads: a browser sends a video here with the ticket its tracker signed."""
import os

from flask import Blueprint, current_app, jsonify, request

from .errors import ApiError
from .models import Job
from .receive import FormReceiver, too_large
from .tickets import check_ticket

bp = Blueprint("uploads", __name__)

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the ticket field, on top of the file itself


@bp.post("/api/v1/uploads")
def create_upload():
    node = current_app.extensions["edge"]
    max_upload = current_app.config["EDGE_MAX_UPLOAD"]
    boundary = request.mimetype_params.get("boundary")
    if request.mimetype != "multipart/form-data" or not boundary:
        raise ApiError(400, "bad_form", "send multipart/form-data with the fields 'ticket' and 'file'")
    if request.content_length and request.content_length > max_upload + FORM_OVERHEAD:
        raise too_large(max_upload)

    def admit(ticket, received):
        payload = check_ticket(node, ticket)
        if payload["size"] > max_upload:
            raise too_large(max_upload)
        if Job.upload_in_use(payload["upload"]):
            raise ApiError(409, "ticket_used", "this ticket's upload was already received")
        free = node.capacity - (node.used() - received)  # the part already written counts once
        if payload["size"] > free:
            raise ApiError(507, "insufficient_storage", f"this edge has {max(free, 0)} bytes free")
        return payload, payload["size"]

    job_id = Job.new_id()
    path = node.upload_path(job_id)
    try:
        with open(path, "xb") as out:
            ticket, size = FormReceiver(request.stream, boundary.encode(), out, admit, max_upload).receive()
        Job.queue(job_id, ticket, size)
    except BaseException:
        _remove(path)
        raise
    status_url = f"{node.public_url}/api/v1/jobs/{job_id}"
    return jsonify(job=job_id, status_url=status_url), 202, {"Location": status_url}


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
