"""GET /videos/<id>/<name>: the files of published packages, and nothing else.

What may be sent, and with which headers, is edge/published.py's rule. Every other request
(unknown video, unlisted name, `..`, encoded slashes, NUL bytes, symlinks) gets the same 404, so a
probe cannot tell them apart. Whole files go out through the WSGI file wrapper, which gunicorn sends
with sendfile(2); with EDGE_ACCEL_REDIRECT nginx sends them instead.
"""
import os

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wsgi import wrap_file

from .deny import refuse_if_denied
from .errors import not_found
from .published import cache_headers, content_type, file_headers

bp = Blueprint("serving", __name__)


@bp.get("/videos/<video_id>/<name>")
def video_file(video_id, name):
    opened = current_app.extensions["edge.manifests"].open(video_id, name)
    if opened is None:
        # A denied video's files are deleted when it is denied, so only a miss needs the look-up.
        refuse_if_denied(video_id)
        raise not_found()
    fd, info, sha256 = opened
    accel = current_app.config["EDGE_ACCEL_REDIRECT"]
    if accel:
        os.close(fd)
        return accel_response(f"{accel}/{video_id}/{name}", name, sha256)
    return file_response(os.fdopen(fd, "rb"), info, name, sha256)


def accel_response(location, name, sha256):
    """Checked here, sent by nginx (`location <prefix>/ { internal; alias <data>/videos/; }`),
    which then answers Range and conditional requests itself and keeps these headers."""
    response = Response(content_type=content_type(name))
    response.headers["X-Accel-Redirect"] = location
    response.headers.update(cache_headers(sha256))
    return response


def file_response(file, info, name, sha256):
    """send_file's answer with a known strong ETag: 200/206/304/412/416, sendfile when available."""
    response = Response(wrap_file(request.environ, file), headers=file_headers(name, info, sha256),
                        direct_passthrough=True)
    try:
        return response.make_conditional(request.environ, accept_ranges=True,
                                         complete_length=info.st_size)
    except RequestedRangeNotSatisfiable:
        file.close()
        raise
