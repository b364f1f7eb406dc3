"""The OpenAPI description of the edge's uploads: the multipart form and tus 1.0 (edge/uploads.py,
edge/tus.py), with tus's headers spelled out (https://tus.io/protocols/resumable-upload)."""
from . import tus
from .openapi_answers import INTERNAL, NOT_FOUND, answer, header_parameter, path_parameter, pattern, ref, \
    refused
from .receive import FIELD_LIMIT

# Offsets and lengths are ASCII digits only, at most 18 of them (tus.py, _header_int): integers as
# headers, the same digits as the edge writes them.
DIGITS = {"type": "string", "pattern": "^[0-9]{1,18}$"}
OFFSET = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}
URL = {"type": "string", "format": "uri"}
JOB_ID = pattern(tus.UPLOAD_ID)  # a job has the id of the upload it was made from
# Upload-Metadata: comma-separated `key base64(value)` pairs (tus 1.0, creation).
BASE64 = "(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
METADATA = f"^[^ ,]+(?: {BASE64})?(?:,[^ ,]+(?: {BASE64})?)*$"
VERSION = {"type": "string", "enum": [tus.VERSION]}

HEADERS = {  # components/headers
    "Tus-Resumable": {"description": "the tus version this edge speaks; on every answer about uploads",
                      "required": True, "schema": VERSION},
    "Tus-Version": {"description": "the tus versions this edge speaks", "required": True, "schema": VERSION},
    "Upload-Offset": {"description": "bytes of the upload the edge holds", "required": True, "schema": DIGITS},
    "Location": {"description": "the URL of what was created", "required": True, "schema": URL},
    "Slipstream-Job": {"description": "the job the whole upload became", "required": True, "schema": JOB_ID},
    "Slipstream-Status-Url": {"description": "where the job's state is read (GET /api/v1/jobs/{job_id})",
                              "required": True, "schema": URL},
    "Retry-After": {"description": "whole seconds until this address may try again (RFC 9110 section 10.2.3)",
                    "required": True, "schema": {"type": "string", "pattern": "^[1-9][0-9]*$"}},
}
JOB_HEADERS = {name: {**HEADERS[name], "required": False, "description": HEADERS[name]["description"]
                      + "; on the answer that completes the upload, and after"}
               for name in ("Slipstream-Job", "Slipstream-Status-Url")}
VERSION_REFUSED = refused("Tus-Resumable is not this edge's version", "tus_version",
                          headers={"Tus-Version": ref("Tus-Version", "headers")})
BUSY = refused("another request is writing this upload; retry shortly", "upload_busy")
TICKET_REFUSED = {
    "401": refused("the ticket is missing, not signed by this edge's tracker, or expired; or the form's file "
                   "part came before its ticket (refused unread)",
                   "missing_ticket", "invalid_ticket", "ticket_expired", "ticket_first"),
    "403": refused("the ticket is for another edge", "wrong_node"),
    "409": refused("the ticket's upload was already received or is in progress", "ticket_used"),
    "503": refused("the edge cannot check tickets before its tracker has answered",
                   "tracker_unreachable", "tracker_unknown"),
    "507": refused("not enough free space on this edge, or its disk filled while the body arrived (nothing of "
                   "it is kept)", "insufficient_storage"),
}
FORM = {"type": "object", "required": ["ticket", "file"], "properties": {
    "ticket": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "maxLength": FIELD_LIMIT,
               "description": "the placement's ticket (unpadded base64url); it must come before `file` "
                              "and is checked before a byte of the file is read (a file part first is "
                              "refused: 401 ticket_first)"},
    "file": {"type": "string", "format": "binary", "description": "the video"}}}
JOB_CREATED = {"type": "object", "required": ["job", "status_url"], "additionalProperties": False,
               "properties": {"job": JOB_ID, "status_url": URL}}
TUS_RESUMABLE = header_parameter("Tus-Resumable", "tus: the version the client speaks", VERSION, required=True)


def on_uploads(responses):
    """tus core: every answer about uploads carries Tus-Resumable (tus.py, tus_headers)."""
    return {status: {**response, "headers": {"Tus-Resumable": ref("Tus-Resumable", "headers"),
                                             **response["headers"]}}
            for status, response in responses.items()}


def upload_paths(max_upload):
    """The paths of uploads, for an edge that takes files of up to `max_upload` bytes."""
    return {"/api/v1/uploads": {"post": creation(max_upload), "options": discovery(max_upload)},
            "/api/v1/uploads/{upload_id}": UPLOAD}


def creation(max_upload):
    return {
        "operationId": "upload",
        "summary": "upload a video with its placement's ticket: a multipart form, or a resumable tus upload",
        "description": "Without Tus-Resumable: multipart/form-data with `ticket` (first) and `file` → 202 "
                       "and the job. With `Tus-Resumable: 1.0.0`: tus creation, no body (Upload-Length, and "
                       "Upload-Metadata with `ticket` and `filename`) → 201, the upload at Location. "
                       "Upload-Defer-Length is not supported (400 length_required).",
        "parameters": [
            header_parameter("Tus-Resumable", "tus: present for a tus creation", VERSION),
            header_parameter("Upload-Length", "tus: the file's size in bytes, at most the ticket's size",
                             {"type": "integer", "minimum": 1, "maximum": max_upload}),
            header_parameter("Upload-Metadata", "tus: base64 `ticket` (required) and `filename`",
                             {"type": "string", "pattern": METADATA}),
        ],
        "requestBody": {"required": False, "content": {"multipart/form-data": {"schema": FORM}}},
        "responses": on_uploads({
            "201": answer("tus: created; PATCH its bytes to Location", headers={
                "Location": ref("Location", "headers"), "Upload-Offset": ref("Upload-Offset", "headers")}),
            "202": answer("form: the whole file arrived and is a queued job", JOB_CREATED, headers={
                "Location": {**HEADERS["Location"], "description": "the job's status URL"}})
            | {"links": {"job": {"operationId": "job", "parameters": {"job_id": "$response.body#/job"}}}},
            "400": refused("not a multipart form with one `file`, an empty file, or a tus header malformed or "
                           "missing", "bad_form", "missing_file", "empty_file", "bad_header", "length_required",
                           "bad_metadata"),
            **TICKET_REFUSED,
            "412": VERSION_REFUSED,
            "413": refused("larger than EDGE_MAX_UPLOAD or the ticket's size", "too_large"),
            "429": refused("tus: too many creations from this address (EDGE_RATE_UPLOADS), refused before the "
                           "ticket is read", "too_many_uploads", headers={"Retry-After": ref("Retry-After", "headers")}),
            "500": INTERNAL})}


def discovery(max_upload):
    return {
        "operationId": "discoverTus",
        "summary": "tus discovery (and CORS preflight, as on every path)",
        "responses": {"200": answer("the tus protocol this edge speaks", headers={
            "Tus-Version": ref("Tus-Version", "headers"),
            "Tus-Extension": {"description": "tus extensions", "required": True,
                              "schema": {"type": "string", "enum": [tus.EXTENSIONS]}},
            "Tus-Max-Size": {"description": "EDGE_MAX_UPLOAD", "required": True,
                             "schema": {"type": "string", "enum": [str(max_upload)]}}})}}


UPLOAD = {
    "parameters": [path_parameter("upload_id", pattern(tus.UPLOAD_ID),
                                  "the tus upload, which becomes the job of the same id")],
    "head": {
        "operationId": "uploadOffset",
        "summary": "tus: how much of the upload the edge holds",
        "parameters": [TUS_RESUMABLE],
        "responses": on_uploads({
            "200": answer("the offset to resume from", headers={
                "Upload-Offset": ref("Upload-Offset", "headers"),
                "Upload-Length": {**HEADERS["Upload-Offset"], "description": "the upload's size"},
                "Cache-Control": {"description": "tus: never from a cache", "required": True,
                                  "schema": {"type": "string", "enum": ["no-store"]}},
                **JOB_HEADERS}),
            # HEAD answers carry no body.
            "404": answer("no such upload"),
            "412": answer("Tus-Resumable is not this edge's version", headers=VERSION_REFUSED["headers"]),
            "500": answer("the edge failed to answer; see its log")})},
    "patch": {
        "operationId": "appendToUpload",
        "summary": "tus: append bytes at Upload-Offset; the PATCH that completes the upload makes it a job",
        "parameters": [TUS_RESUMABLE, header_parameter("Upload-Offset", "where these bytes go", OFFSET, True)],
        "requestBody": {"required": True, "content": {
            tus.OFFSET_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
        "responses": on_uploads({
            "204": answer("appended", headers={"Upload-Offset": ref("Upload-Offset", "headers"),
                                               **JOB_HEADERS}),
            "400": refused("Upload-Offset is not a non-negative integer", "bad_header"),
            "404": NOT_FOUND,
            "409": refused("Upload-Offset is not the upload's offset", "offset_mismatch",
                           headers={"Upload-Offset": ref("Upload-Offset", "headers")}),
            "412": VERSION_REFUSED,
            "413": refused("the body goes past Upload-Length", "too_large"),
            "415": refused(f"the body is not {tus.OFFSET_TYPE}", "bad_content_type"),
            "423": BUSY,
            "500": INTERNAL,
            "507": refused("the edge's disk filled while these bytes arrived: the upload is ended, its bytes "
                           "removed and its space released", "insufficient_storage")})},
    "delete": {
        "operationId": "terminateUpload",
        "summary": "tus termination: drop an unfinished upload and free its space",
        "parameters": [TUS_RESUMABLE],
        "responses": on_uploads({
            "204": answer("dropped"),
            "404": NOT_FOUND,
            "409": refused("the upload is whole and already a job", "upload_complete"),
            "412": VERSION_REFUSED,
            "423": BUSY,
            "500": INTERNAL})},
}
