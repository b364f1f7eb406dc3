"""POST /api/v1/uploads: a browser sends a video here with the ticket its tracker signed.

The same URL takes the plain multipart form and, with a `Tus-Resumable` header, the creation of a
resumable tus upload (edge/tus.py).
"""

from flask import Blueprint, current_app, jsonify, request

from .files import remove_quietly
from . import tus
from .capacity import complete, release, reserve
from .errors import ApiError
from .jobs import JobLock
from .receive import FormReceiver, too_large
from .tickets import check_ticket

bp = Blueprint("uploads", __name__)

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the ticket field, on top of the file itself


@bp.post("/api/v1/uploads")
def create_upload():
    if "Tus-Resumable" in request.headers:
        return tus.create()
    node = current_app.extensions["edge"]
    max_upload = current_app.config["EDGE_MAX_UPLOAD"]
    boundary = request.mimetype_params.get("boundary")
    if request.mimetype != "multipart/form-data" or not boundary:
        raise ApiError(400, "bad_form", "send multipart/form-data with the fields 'ticket' and 'file'")
    if request.content_length and request.content_length > max_upload + FORM_OVERHEAD:
        raise too_large(max_upload)

    job_id = tus.new_id()

    def admit(ticket, received):
        payload = check_ticket(node, ticket, on_tasks=current_app.extensions["edge.tasks"])
        if payload["size"] > max_upload:
            raise too_large(max_upload)
        reserve(node, job_id, "form", payload["size"], payload["expires"], ticket=payload, received=received)
        return payload, payload["size"]

    path = node.part_path(job_id)
    try:
        # The lock tells the sweeper this half-received file still has a living receiver.
        with JobLock(node, job_id), open(path, "xb") as out:
            ticket, size = FormReceiver(request.stream, boundary.encode(), out, admit, max_upload).receive()
            complete(node, job_id, ticket, size)
    except BaseException:
        remove_quietly(path)
        release(job_id)
        raise
    status_url = f"{node.public_url}/api/v1/jobs/{job_id}"
    return jsonify(job=job_id, status_url=status_url), 202, {"Location": status_url}
