"""The rule for published files, in one place: what may be sent, and the headers it goes out with.

A file is sent only when its id is 40 lowercase hex, its name is `manifest.json` or listed in that
video's published manifest, it opens without following a symlink, and it is a regular file of the
listed size; anything else is "not here" (None), the same for every kind of miss. Files are
content-addressed by the manifest, so they may be cached forever and their SHA-256 is a strong ETag.
Flask's full path (edge/serving.py) and the hot path before it (edge/fastpath.py) both ask here.
"""
import hashlib
import logging
import os
import stat
import threading
from collections import OrderedDict

from werkzeug.http import http_date
from werkzeug.utils import get_content_type

from protocol.errors import ManifestError
from protocol.ids import is_video_id
from protocol.manifest import MANIFEST_NAME, parse_manifest

log = logging.getLogger(__name__)

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
# Content-Type values as Flask writes them (a charset on text types), computed once.
CONTENT_TYPES = {extension: get_content_type(mimetype, "utf-8") for extension, mimetype in TYPES.items()}
ONE_YEAR = 31536000
CACHE_CONTROL = f"public, max-age={ONE_YEAR}, immutable"


def content_type(name):
    return CONTENT_TYPES.get(os.path.splitext(name)[1].lower(), "application/octet-stream")


def cache_headers(sha256):
    """Cacheable forever, the SHA-256 a strong ETag: what an X-Accel-Redirect answer carries."""
    return [("ETag", f'"{sha256}"'), ("Cache-Control", CACHE_CONTROL)]


def file_headers(name, info, sha256):
    """The headers of a 200 answer carrying the whole file (`info`: its os.fstat): cache_headers'
    two written out, as this runs on every request of the hot path."""
    return [
        ("Content-Type", content_type(name)),
        ("Content-Length", str(info.st_size)),
        ("Last-Modified", http_date(info.st_mtime)),
        ("ETag", f'"{sha256}"'),
        ("Cache-Control", CACHE_CONTROL),
        ("Accept-Ranges", "bytes"),
    ]


class ManifestCache:
    """Parsed manifests of published videos, by id (bounded, shared by the worker's threads).

    Each entry maps every servable name (the listed files and manifest.json itself) to its
    `{"sha256", "size"}`.
    """

    def __init__(self, node, size=1024):
        self.node, self.size = node, size
        self._entries, self._lock = OrderedDict(), threading.Lock()

    def open(self, video_id, name):
        """The published file `name` of `video_id`, open: (descriptor, its os.fstat, SHA-256), the
        caller closing the descriptor; None when it may not be sent. A plain tuple: the hot path
        asks this on every request."""
        files = self.files(video_id)
        if files is None or name not in files:
            return None
        try:
            # O_NOFOLLOW: a symlink planted in a package is refused, not followed.
            fd = os.open(os.path.join(self.node.video_path(video_id), name), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            self.forget(video_id)  # deleted (dropped, handed over) since it was cached
            return None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != files[name]["size"]:
            os.close(fd)
            return None
        return fd, info, files[name]["sha256"]

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
