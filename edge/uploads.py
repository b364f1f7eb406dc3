"""POST /api/v1/uploads: a browser sends a video here with the ticket its tracker signed.

The same URL takes the plain multipart form and, with a `Tus-Resumable` header, the creation of a
resumable tus upload (edge/tus.py).
"""

from flask import Blueprint, current_app, jsonify, request

from . import tus
from .capacity import complete, release, reserve
from .diskfull import full_disk_is_507
from .errors import ApiError
from .files import remove_quietly
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
    if not request.mimetype and not request.content_length:  # nothing sent: above all, no ticket
        raise ApiError(401, "missing_ticket", "send the placement's ticket: a multipart form with 'ticket' then "
                                              "'file', or a tus creation with the ticket in Upload-Metadata")
    if request.mimetype != "multipart/form-data" or not boundary:
        raise ApiError(400, "bad_form", "send multipart/form-data with the fields 'ticket' and 'file'")
    if request.content_length and request.content_length > max_upload + FORM_OVERHEAD:
        raise too_large(max_upload)

    job_id = tus.new_id()
    path = node.part_path(job_id)

    def admit(ticket):
        payload = check_ticket(node, ticket, on_tasks=current_app.extensions["edge.tasks"])
        if payload["size"] > max_upload:
            raise too_large(max_upload)
        reserve(node, job_id, "form", payload["size"], payload["expires"], ticket=payload)
        # Only now, with a valid ticket and its space held, does the upload get a file.
        return payload, payload["size"], open(path, "xb")

    try:
        # The lock tells the sweeper this half-received file still has a living receiver.
        with JobLock(node, job_id), full_disk_is_507("receiving this upload"):
            ticket, size = FormReceiver(request.stream, boundary.encode(), admit, max_upload).receive()
            complete(node, job_id, ticket, size)
    except BaseException:
        remove_quietly(path)  # first: on a full disk, the database needs the room to release the hold
        release(job_id)
        raise
    status_url = f"{node.public_url}/api/v1/jobs/{job_id}"
    return jsonify(job=job_id, status_url=status_url), 202, {"Location": status_url}
