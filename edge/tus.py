"""Resumable uploads, tus 1.0.0: core, creation and termination (https://tus.io/protocols/resumable-upload).

Creation is `POST /api/v1/uploads` with `Tus-Resumable` (the same URL as the plain form; see
edge/uploads.py), `Upload-Length` and `Upload-Metadata` carrying `ticket` and `filename`. The upload
lives at `/api/v1/uploads/<id>` (HEAD, PATCH, DELETE); its bytes go to `uploads/<id>.part`, whose
size on disk is the offset, so whatever reached the disk before a crash need not be sent again.
When the offset reaches the length the upload becomes the job of the same id.

An upload may be resumed, and keeps its space, until its ticket expires: after that it is unknown
(404) and the sweep removes its bytes (edge/capacity.py). A full disk ends it at once (507): what
it wrote is removed and its hold released, since resuming it would only fill the disk again.
"""
import base64
import binascii
import os
import re
import secrets
from contextlib import contextmanager

from flask import Blueprint, current_app, request

from runtime.clients import client_key
from runtime.ratelimit import TokenBuckets

from .capacity import complete, release, reserve
from .diskfull import full_disk_is_507
from .errors import ApiError, not_found
from .files import remove_quietly, size_or_zero
from .jobs import JobLock
from .models import Hold, Job
from .receive import CHUNK, too_large
from .tickets import check_ticket

bp = Blueprint("tus", __name__)

VERSION = "1.0.0"
EXTENSIONS = "creation,termination"
OFFSET_TYPE = "application/offset+octet-stream"
UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{16}")


def new_id():
    return secrets.token_urlsafe(12)  # 16 URL-safe characters; also the job's id


@bp.record_once
def add_rate_limit(state):
    """Per-address buckets of tus creations: each one holds the upload's space while its ticket lasts."""
    config = state.app.config
    state.app.extensions["edge.tus_creations"] = TokenBuckets(config["EDGE_RATE_UPLOADS"],
                                                              config["EDGE_RATE_UPLOADS_BURST"], config["CLOCK"])


def create():
    node, max_upload = current_app.extensions["edge"], current_app.config["EDGE_MAX_UPLOAD"]
    _check_version()
    _count_creation()
    if "Upload-Defer-Length" in request.headers:
        raise ApiError(400, "length_required", "send Upload-Length; deferred lengths are not supported")
    length = _header_int("Upload-Length")
    if length > max_upload:
        raise too_large(max_upload)
    if length == 0:
        raise ApiError(400, "empty_file", "the file is empty")
    metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    ticket = check_ticket(node, metadata.get("ticket"), on_tasks=current_app.extensions["edge.tasks"])
    if length > ticket["size"]:
        raise too_large(ticket["size"])
    upload_id = new_id()
    reserve(node, upload_id, "tus", length, ticket["expires"], ticket=ticket,
            filename=metadata.get("filename", "")[:255])
    with _ended_by_full_disk(node, upload_id):
        open(node.part_path(upload_id), "xb").close()
    location = f"{node.public_url}/api/v1/uploads/{upload_id}"
    return "", 201, {"Location": location, "Upload-Offset": "0"}


@bp.route("/api/v1/uploads/<upload_id>", methods=["HEAD"])
def head(upload_id):
    node = current_app.extensions["edge"]
    _check_version()
    hold, job = _find(upload_id)
    headers = {"Cache-Control": "no-store"}  # tus: the offset must never come from a cache
    if hold is not None:
        headers.update({"Upload-Offset": str(size_or_zero(node.part_path(upload_id))), "Upload-Length": str(hold.size)})
    else:
        headers.update({"Upload-Offset": str(job.size), "Upload-Length": str(job.size), **_job_headers(node, job)})
    return "", 200, headers


@bp.route("/api/v1/uploads/<upload_id>", methods=["PATCH"])
def patch(upload_id):
    node = current_app.extensions["edge"]
    _check_version()
    if request.mimetype != OFFSET_TYPE:
        raise ApiError(415, "bad_content_type", f"PATCH bodies are {OFFSET_TYPE}")
    offset = _header_int("Upload-Offset")
    hold, job = _find(upload_id)
    if hold is None:  # already whole: only an empty PATCH at the end is consistent
        if offset != job.size or request.content_length:
            raise _offset_conflict(job.size)
        return "", 204, {"Upload-Offset": str(job.size), **_job_headers(node, job)}
    with JobLock(node, upload_id) as mine:
        if not mine:
            raise ApiError(423, "upload_busy", "another request is writing this upload; retry shortly")
        path = node.part_path(upload_id)
        current = size_or_zero(path)
        if offset != current:
            raise _offset_conflict(current)
        with _ended_by_full_disk(node, upload_id):
            current = _append(path, current, hold.size)
        headers = {"Upload-Offset": str(current)}
        if current == hold.size:
            job = complete(node, upload_id, hold.ticket_payload, hold.size)
            headers.update(_job_headers(node, job))
    return "", 204, headers


@bp.route("/api/v1/uploads/<upload_id>", methods=["DELETE"])
def terminate(upload_id):
    node = current_app.extensions["edge"]
    _check_version()
    hold, _ = _find(upload_id)
    if hold is None:
        raise ApiError(409, "upload_complete", "this upload is whole and already a job")
    with JobLock(node, upload_id) as mine:
        if not mine:
            raise ApiError(423, "upload_busy", "another request is writing this upload; retry shortly")
        remove_quietly(node.part_path(upload_id))
        release(upload_id)
    return "", 204


@bp.after_app_request
def tus_headers(response):
    """Tus-Resumable on every answer about uploads; discovery headers on OPTIONS (tus core)."""
    if request.path.startswith("/api/v1/uploads"):
        if request.method == "OPTIONS":
            response.headers.update({"Tus-Version": VERSION, "Tus-Extension": EXTENSIONS,
                                     "Tus-Max-Size": str(current_app.config["EDGE_MAX_UPLOAD"])})
        else:
            response.headers["Tus-Resumable"] = VERSION
    return response


def parse_metadata(text):
    """`key base64,key2 base64` (tus creation) -> {key: str}; a pair that is not base64 is a 400.
    tus leaves the values' bytes to the application: the two this edge reads are text (a ticket is
    ASCII, a file name only a label), so bytes that are not UTF-8 become U+FFFD rather than a 400."""
    metadata = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = pair.partition(" ")
        try:
            metadata[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8", errors="replace")
        except binascii.Error:
            raise ApiError(400, "bad_metadata", f"Upload-Metadata value of {key!r} is not base64") from None
    return metadata


def _append(path, offset, length):
    """Write the body at `offset`, at most up to `length`; return the new offset.

    What arrived before a client vanished stays: that is what the next HEAD reports.
    """
    with open(path, "r+b") as out:
        out.seek(offset)
        try:
            while chunk := request.stream.read(CHUNK):
                if offset + len(chunk) > length:
                    out.truncate(offset)
                    raise ApiError(413, "too_large", f"the body goes past Upload-Length ({length} bytes)")
                out.write(chunk)
                offset += len(chunk)
        finally:
            out.flush()
            os.fsync(out.fileno())
    return offset


@contextmanager
def _ended_by_full_disk(node, upload_id):
    """A full disk inside the block: the upload's bytes and hold are gone, the answer is 507."""
    try:
        with full_disk_is_507("receiving this upload"):
            yield
    except ApiError as exc:
        if exc.status == 507:
            remove_quietly(node.part_path(upload_id))  # first: the database needs room to release
            release(upload_id)
        raise


def _find(upload_id):
    """(hold, None) while arriving, (None, job) once whole; 404 for anything else, an upload whose
    ticket has expired included (the sweep removes it)."""
    if not UPLOAD_ID.fullmatch(upload_id):
        raise not_found()
    hold = Hold.resumable(upload_id, current_app.extensions["edge"].clock())
    job = None if hold else Job.find(upload_id)
    if hold is None and job is None:
        raise not_found()
    return hold, job


def _job_headers(node, job):
    return {"Slipstream-Job": job.id, "Slipstream-Status-Url": f"{node.public_url}/api/v1/jobs/{job.id}"}


def _check_version():
    if request.headers.get("Tus-Resumable") != VERSION:
        raise ApiError(412, "tus_version", f"this edge speaks tus {VERSION}", {"Tus-Version": VERSION})


def _count_creation():
    """Refuse (429) a creation past this address's rate (EDGE_RATE_UPLOADS), before its ticket is read."""
    wait = current_app.extensions["edge.tus_creations"].take(client_key(request.remote_addr or ""))
    if wait:
        config = current_app.config
        raise ApiError(429, "too_many_uploads", f"too many uploads started from your address: at most "
                       f"{config['EDGE_RATE_UPLOADS_BURST']} at once, then {config['EDGE_RATE_UPLOADS']} a minute "
                       f"(EDGE_RATE_UPLOADS); retry in {wait} s", {"Retry-After": str(wait)})


def _header_int(name):
    value = request.headers.get(name, "")
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise ApiError(400, "bad_header", f"{name} must be a non-negative integer")
    return int(value)


def _offset_conflict(current):
    return ApiError(409, "offset_mismatch", f"the upload is at offset {current}", {"Upload-Offset": str(current)})
