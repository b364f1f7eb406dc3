"""`GET /api/v1/openapi.json`: an OpenAPI 3.1 description of the edge's API (README.md, API: Edge).

Exact on purpose, so that a schema-driven tester can generate requests from it: ids and names carry
the patterns the code checks (built from the code's own regular expressions), every status an
operation answers is listed with the error codes it carries, and tus 1.0's headers are spelled out
(edge/openapi_uploads.py). tests/edge/test_edge_openapi.py holds it to `app.url_map` and to real answers.
"""
from flask import Blueprint, current_app

from protocol.ids import PUBLIC_KEY, VIDEO_ID
from protocol.manifest import FILE_NAME
from protocol.proofs import PATH

from .cors import ALLOW_HEADERS
from .models import STAGES, STATES
from .openapi_answers import COUNT, INTERNAL, NOT_FOUND, NUMBER, OPERATOR_REFUSALS, STRING, answer, \
    header_parameter, path_parameter, pattern, refused
from .openapi_deny import DENIED, deny_paths
from .openapi_uploads import HEADERS, JOB_ID, URL, upload_paths
from .proof import MAX_BODY
from .published import CACHE_CONTROL, TYPES

bp = Blueprint("openapi", __name__)

VIDEO = path_parameter("video_id", pattern(VIDEO_ID), "the first 20 bytes of the manifest's SHA-256, in hex")
NODE_ID = pattern(PUBLIC_KEY)

JOB = {"type": "object", "required": ["job", "state", "progress"], "additionalProperties": False,
       "properties": {
           "job": JOB_ID, "state": {"type": "string", "enum": list(STATES)},
           "progress": {"type": "number", "minimum": 0, "maximum": 1},
           "eta": {"type": "number", "description": "seconds left, while running, once known"},
           "stage": {"type": "string", "enum": list(STAGES), "description": "while running: packaging the "
                     "upload, or (the package published on this edge) waiting for the tracker's registration"},
           "message": {"type": "string", "description": "while running: why it waits (the tracker away or busy; "
                       "it is tried again with back-off)"},
           "retry_at": {"type": "number", "description": "registering: Unix time of the next try"},
           "video_id": pattern(VIDEO_ID),
           "error": {"type": "string", "description": "why the job failed"},
           "error_status": {"type": "integer", "enum": [413, 415, 422, 451, 500, 502, 507], "description":
                            "413 too large, 415 unsupported format, 422 not a valid or safe video (nothing of "
                            "it is kept); 451 it is a video this edge's operator denied (nothing of it is kept); "
                            "500 the edge failed; 502 the tracker did not register the video; "
                            "507 the edge's disk filled while packaging it (nothing of it is kept)"}}}
TRACKER_KEY = {"type": "object", "required": ["pinned", "seen", "mismatch", "reach"], "additionalProperties": False,
               "description": "EDGE_TRACKER_KEY entry or the key pinned on first contact, the key of its "
                              "latest answer, and whether they differ (then its answers and tickets are refused); "
                              "how that tracker last measured this edge reachable",
               "properties": {"pinned": {**NODE_ID, "type": ["string", "null"]},
                              "seen": {**NODE_ID, "type": ["string", "null"]}, "mismatch": {"type": "boolean"},
                              "reach": {"enum": ["https", "http", "webrtc", None], "description": "from its "
                                        "latest announce answer: https, http, or webrtc (its URL cannot be "
                                        "opened from outside; it serves through the tracker); null before"}}}
STATUS = {"type": "object", "additionalProperties": False,
          "required": ["node", "url", "tracker", "tracker_key", "trackers", "capacity", "free", "used", "reserved", "videos",
                       "jobs"],
          "properties": {
              "node": NODE_ID, "url": URL,
              "tracker": {**NODE_ID, "type": ["string", "null"],
                          "description": "the first tracker's pinned key; null until it has answered an announce"},
              "tracker_key": {**TRACKER_KEY, "description": "the first tracker's " + TRACKER_KEY["description"]},
              "trackers": {"type": "array", "items": {
                  **TRACKER_KEY, "required": ["url", *TRACKER_KEY["required"]],
                  "properties": {"url": URL, **TRACKER_KEY["properties"]}},
                  "description": "every tracker of EDGE_TRACKER_URL, in its order, with its key's state"},
              "capacity": {**COUNT, "description": "what it announces: EDGE_CAPACITY, or used + free when less"},
              "free": {**COUNT, "description": "what a new upload or replica may take, as announced: within "
                                               "EDGE_CAPACITY and the disk's free space (statvfs of the data "
                                               "dir) less EDGE_DISK_MARGIN, after what `reserved` promises"},
              "used": {**COUNT, "description": "bytes in videos, uploads and packages or replicas being "
                                               "written, plus `reserved`, as announced"},
              "reserved": {**COUNT, "description": "bytes promised to transfers still arriving, not yet written"},
              "videos": {"type": "array", "items": pattern(VIDEO_ID)},
              "jobs": {"type": "object", "required": list(STATES), "additionalProperties": False,
                       "properties": dict.fromkeys(STATES, COUNT)}}}
MANIFEST = {"type": "object", "required": ["version", "files"], "description": "manifest.json (README.md)",
            "properties": {
                "version": {"const": 1}, "duration": NUMBER, "renditions": {"type": "array"},
                "poster": {"type": ["string", "null"]}, "thumbnails": {"type": ["string", "null"]},
                "files": {"type": "object", "additionalProperties": {
                    "type": "object", "required": ["sha256", "size"],
                    "properties": {"sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "size": COUNT}}}}}

BINARY = {"schema": {"type": "string", "format": "binary"}}
# Each file with its own type (edge/published.py); manifest.json as JSON.
FILE = {**{mimetype: BINARY for mimetype in sorted(set(TYPES.values()))},
        "application/json": {"schema": MANIFEST}}
FILE_HEADERS = {
    "ETag": {"description": "the file's SHA-256 from the manifest: a strong ETag", "required": True,
             "schema": {"type": "string", "pattern": '^"[0-9a-f]{64}"$'}},
    "Cache-Control": {"description": "content-addressed: cacheable forever", "required": True,
                      "schema": {"type": "string", "enum": [CACHE_CONTROL]}},
    "Last-Modified": {"description": "not with EDGE_ACCEL_REDIRECT", "schema": STRING},
    "Accept-Ranges": {"description": "not with EDGE_ACCEL_REDIRECT",
                      "schema": {"type": "string", "enum": ["bytes"]}},
    "X-Accel-Redirect": {"description": "with EDGE_ACCEL_REDIRECT only, and no body: nginx sends the file",
                         "schema": STRING},
}
CONTENT_RANGE = {"description": "the bytes sent, or `bytes */length`", "required": True, "schema": STRING}
CONDITIONS = [
    header_parameter("Range", "one byte range (RFC 9110 section 14.2): 206, or 416 when it cannot be served"),
    header_parameter("If-None-Match", "ETags held (RFC 9110 section 13.1.2): 304 when one is this file's"),
    header_parameter("If-Modified-Since", "an HTTP date (RFC 9110 section 13.1.3): 304 unless newer"),
    header_parameter("If-Match", "ETags (RFC 9110 section 13.1.1)"),
    header_parameter("If-Unmodified-Since", "an HTTP date (RFC 9110 section 13.1.4)"),
    header_parameter("If-Range", "an ETag or date (RFC 9110 section 13.1.5): the Range only while it holds"),
]

PATHS = {  # and upload_paths(), which depend on EDGE_MAX_UPLOAD
    "/api/v1/jobs/{job_id}": {"get": {
        "operationId": "job",
        "summary": "a job's state and progress",
        "parameters": [path_parameter("job_id", JOB_ID, "the job (the id of the upload it was made from)")],
        "responses": {"200": answer("the job", JOB), "404": refused("no job with this id here", "unknown_job"),
                      "500": INTERNAL}}},
    "/videos/{video_id}/{name}": {"get": {
        "operationId": "videoFile",
        "summary": "a file of a published package: only manifest.json and the names it lists",
        "description": "Own content types, CORS, Range, strong ETags, `immutable` caching. Unknown video, "
                       "unlisted name and every path trick get the same 404.",
        "parameters": [VIDEO, path_parameter("name", pattern(FILE_NAME), "manifest.json or a name it lists"),
                       *CONDITIONS],
        "responses": {
            "200": answer("the whole file", headers=FILE_HEADERS) | {"content": FILE},
            "206": answer("the range asked for", headers={**FILE_HEADERS, "Content-Range": CONTENT_RANGE})
            | {"content": {mimetype: BINARY for mimetype in FILE}},
            "304": answer("not modified: the ETag or date given still holds", headers=FILE_HEADERS),
            "404": NOT_FOUND,
            "451": DENIED,
            # Werkzeug's make_conditional keeps the body on a 412.
            "412": answer("If-Match names none of this file's ETags", headers=FILE_HEADERS) | {"content": FILE},
            "416": refused("the Range cannot be served", "requested_range_not_satisfiable",
                           headers={"Content-Range": CONTENT_RANGE}),
            "500": INTERNAL}}},
    "/api/v1/videos/{video_id}": {"delete": {
        "operationId": "handOver",
        "summary": "operator: hand the video over to other edges, then delete it here",
        "description": "The tracker has another edge pull a verified copy; this copy is deleted once the "
                       "tracker says so.",
        "security": [{"operator": []}],
        "parameters": [VIDEO],
        "responses": {
            "202": answer("the tracker took the hand-over", {
                "type": "object", "required": ["state", "video_id"], "additionalProperties": False,
                "properties": {"state": {"type": "string", "enum": ["handing_over"]},
                               "video_id": pattern(VIDEO_ID)}}),
            **OPERATOR_REFUSALS,
            "404": NOT_FOUND,
            "502": refused("the tracker did not take the hand-over", "tracker_refused"),
            "500": INTERNAL}}},
    "/api/v1/status": {"get": {"operationId": "status", "summary": "this edge's node status", "responses": {
        "200": answer("capacity, use, videos and jobs", STATUS), "500": INTERNAL}}},
    "/healthz": {"get": {"operationId": "health", "summary": "health", "responses": {"200": answer("alive", {
        "type": "object", "required": ["status"], "additionalProperties": False,
        "properties": {"status": {"type": "string", "enum": ["ok"]}}})}}},
    "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics", "responses": {
        "200": answer("the Prometheus text format", STRING, media="text/plain"), "500": INTERNAL}}},
    "/api/v1/openapi.json": {"get": {"operationId": "openapi", "summary": "this document", "responses": {
        "200": answer("OpenAPI 3.1", {"type": "object", "required": ["openapi", "info", "paths"]})}}},
}


def proof_path(public_url, pinned):
    """POST /api/v1/proof (edge/proof.py, protocol/proofs.py): only this edge's URL, and only its
    trackers' pinned keys once every tracker has one (`pinned`: that list, else None)."""
    challenge = {"type": "object", "required": ["challenge", "tracker", "url"], "additionalProperties": False,
                 "properties": {
                     "challenge": {**NODE_ID, "description": "a fresh random challenge: 32 bytes in hex"},
                     "tracker": {**NODE_ID, "description": "the asking tracker's key"}
                     | ({"enum": pinned, "description": "a pinned tracker key"} if pinned else {}),
                     "url": {"type": "string", "enum": [public_url], "description": "this edge's own URL"}}}
    signed = {"type": "object", "required": ["payload", "signature"], "additionalProperties": False,
              "properties": {
                  "payload": {**challenge, "required": ["challenge", "tracker", "url", "node"],
                              "properties": {**challenge["properties"], "node": NODE_ID}},
                  "signature": {"type": "string", "pattern": "^[0-9a-f]{128}$",
                                "description": "Ed25519, by the node key, over the payload's canonical JSON"}}}
    return {"post": {
        "operationId": "proveUrl",
        "summary": "prove to a tracker that the server at this URL holds this node's key",
        "requestBody": {"required": True, "content": {"application/json": {"schema": challenge}}},
        "responses": {
            "200": answer("the challenge, signed by this node's key with its id added", signed),
            "400": refused("not a JSON object of a 64-hex challenge, a tracker key and a URL", "bad_challenge"),
            "403": refused("not this edge's URL, or not one of its pinned trackers", "wrong_url", "wrong_tracker"),
            "413": refused(f"the body is over {MAX_BODY} bytes", "too_large"),
            "500": INTERNAL}}}


def document():
    node = current_app.extensions["edge"]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Slipstream edge", "version": "1", "description":
                 "A streaming node: uploads, jobs, published HLS packages, status. Errors are "
                 "`{\"error\": code, \"message\": text}`. Every answer allows any origin (CORS, no "
                 "credentials; preflights allow the headers " + ALLOW_HEADERS + ") and carries "
                 "`X-Content-Type-Options: nosniff`."},
        "servers": [{"url": current_app.config["SLIPSTREAM_PUBLIC_URL"]}],
        "paths": {**upload_paths(current_app.config["EDGE_MAX_UPLOAD"]), **PATHS, **deny_paths(VIDEO),
                  PATH: proof_path(node.public_url, node.proof_keys())},
        "components": {"headers": HEADERS, "securitySchemes": {"operator": {
            "type": "http", "scheme": "bearer", "description": "EDGE_ADMIN_TOKEN"}}},
    }


@bp.get("/api/v1/openapi.json")
def openapi():
    return document()
