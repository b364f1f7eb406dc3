"""GET /videos/<id>/<name>: the files of published packages, and nothing else.

A name is served only when it is `manifest.json` or listed in the video's published manifest; the
id must be 40 lowercase hex. Every other request (unknown video, unlisted name, `..`, encoded
slashes, NUL bytes, symlinks) gets the same 404, so a probe cannot tell them apart. Whole files go
out through the WSGI file wrapper, which gunicorn sends with sendfile(2); with EDGE_ACCEL_REDIRECT
nginx sends them instead. Files are
content-addressed by the manifest, so they may be cached forever and their SHA-256 is a strong ETag.
"""
import hashlib
import logging
import os
import stat
import threading
from collections import OrderedDict

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wsgi import wrap_file

from protocol.errors import ManifestError
from protocol.ids import is_video_id
from protocol.manifest import MANIFEST_NAME, parse_manifest

from .errors import not_found

log = logging.getLogger(__name__)
bp = Blueprint("serving", __name__)

# Our own table: Python's `mimetypes` depends on the host and calls .ts a Qt translation file.
TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",  # RFC 8216 section 4
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".ts": "video/mp2t",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".vtt": "text/vtt",
    ".json": "application/json",
}
ONE_YEAR = 31536000


@bp.get("/videos/<video_id>/<name>")
def video_file(video_id, name):
    node = current_app.extensions["edge"]
    cache = current_app.extensions["edge.manifests"]
    files = cache.files(video_id)
    if files is None or name not in files:
        raise not_found()
    path = os.path.join(node.video_path(video_id), name)
    try:
        # O_NOFOLLOW: a symlink planted in a package is refused, not followed.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        cache.forget(video_id)  # deleted (dropped, handed over) since it was cached
        raise not_found() from None
    file = os.fdopen(fd, "rb")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size != files[name]["size"]:
        file.close()
        raise not_found()
    accel = current_app.config["EDGE_ACCEL_REDIRECT"]
    if accel:
        file.close()
        return accel_response(f"{accel}/{video_id}/{name}", name, files[name]["sha256"])
    return file_response(file, info, name, files[name]["sha256"])


def accel_response(location, name, sha256):
    """Checked here, sent by nginx (`location <prefix>/ { internal; alias <data>/videos/; }`),
    which then answers Range and conditional requests itself and keeps these headers."""
    response = Response(mimetype=content_type(name))
    response.headers["X-Accel-Redirect"] = location
    response.set_etag(sha256)
    response.cache_control.public = True
    response.cache_control.max_age = ONE_YEAR
    response.cache_control.immutable = True
    return response


def file_response(file, info, name, sha256):
    """send_file's answer with a known strong ETag: 200/206/304/412/416, sendfile when available."""
    response = Response(wrap_file(request.environ, file), mimetype=content_type(name),
                        direct_passthrough=True)
    response.content_length = info.st_size
    response.last_modified = info.st_mtime
    response.set_etag(sha256)
    response.cache_control.public = True
    response.cache_control.max_age = ONE_YEAR
    response.cache_control.immutable = True
    try:
        return response.make_conditional(request.environ, accept_ranges=True,
                                         complete_length=info.st_size)
    except RequestedRangeNotSatisfiable:
        file.close()
        raise


def content_type(name):
    return TYPES.get(os.path.splitext(name)[1].lower(), "application/octet-stream")


class ManifestCache:
    """Parsed manifests of published videos, by id (bounded, shared by the worker's threads).

    Each entry maps every servable name (the listed files and manifest.json itself) to its
    `{"sha256", "size"}`.
    """

    def __init__(self, node, size=1024):
        self.node, self.size = node, size
        self._entries, self._lock = OrderedDict(), threading.Lock()

    def files(self, video_id):
        if not is_video_id(video_id):
            return None
        with self._lock:
            if video_id in self._entries:
                self._entries.move_to_end(video_id)
                return self._entries[video_id]
        files = self._load(video_id)
        if files is not None:
            with self._lock:
                self._entries[video_id] = files
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return files

    def forget(self, video_id):
        with self._lock:
            self._entries.pop(video_id, None)

    def _load(self, video_id):
        directory = self.node.video_path(video_id)
        if os.path.islink(directory) or not os.path.isdir(directory):
            return None
        try:
            fd = os.open(os.path.join(directory, MANIFEST_NAME), os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as f:
                raw = f.read()
            manifest = parse_manifest(raw, expected_id=video_id)
            files = {name: {"sha256": str(entry["sha256"]), "size": int(entry["size"])}
                     for name, entry in manifest["files"].items() if name != MANIFEST_NAME}
        except (OSError, ManifestError, KeyError, TypeError, ValueError) as exc:
            log.warning("video %s is not servable: %s", video_id, exc)
            return None
        files[MANIFEST_NAME] = {"sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)}
        return files
