"""Small published files kept in memory as whole answers: playlists, manifests, posters, thumbnails.

A player asks for these many times a second, and each is smaller than what opening, checking and
sending a file costs: from memory the worker answers one with a single write (edge/worker.py).
Published files never change (they are named by their SHA-256 in the manifest), so a copy read
once stays right, as long as the video is still published: a video deleted, denied or handed over
leaves videos/ in one rename (edge/node.py's `unpublish`), maybe in another worker process, so each
answer from memory first checks that the video's directory is still there, the same one its copy
was read from (one stat(2)). A copy is kept only when its bytes match the manifest's SHA-256.

Bounded by EDGE_MEMORY_CACHE bytes per worker process (least recently used go first); a file larger
than SMALL_FILE, such as most segments, is never kept and goes out with sendfile as before.
"""
import hashlib
import os
import threading
from collections import OrderedDict
from typing import NamedTuple

from .cors import EVERY_ANSWER
from .published import file_headers

SMALL_FILE = 256 * 1024


def answer_head(headers):
    """The status line and `headers` of a 200 answer, without Date and the blank line (runtime/plain.py)."""
    return b"HTTP/1.1 200 OK\r\n" + b"".join(f"{field}: {value}\r\n".encode("latin-1") for field, value in headers)


class Copy(NamedTuple):
    head: bytes  # status line and headers, without Date and the blank line
    body: bytes
    directory: tuple  # (st_dev, st_ino) of the video's directory when read


class MemoryFiles:
    def __init__(self, node, manifests, budget):
        self.node, self.manifests, self.budget = node, manifests, budget
        self.used = 0
        self._copies, self._lock = OrderedDict(), threading.Lock()

    def find(self, path):
        """The copy answering a GET of `path` (bytes, `/videos/<id>/<name>`), or None."""
        parts = path.split(b"/")
        if len(parts) != 4 or parts[1] != b"videos":
            return None
        return self.get(parts[2].decode(), parts[3].decode())

    def get(self, video_id, name):
        """(head, body) of the whole answer to a GET of this published file, or None when it is not
        kept in memory (too large, not servable, the cache off): the caller then answers as usual."""
        key = (video_id, name)
        copy = self._copies.get(key)
        if copy is not None:
            try:
                info = os.stat(self.node.video_path(video_id))
            except OSError:
                info = None
            if info is not None and (info.st_dev, info.st_ino) == copy.directory:
                # One C call, atomic under the GIL: hits come from the event loop, without the lock.
                self._copies.move_to_end(key)
                return copy
            self.forget(video_id)
            return None
        return self._load(key) if self.budget else None

    def forget(self, video_id):
        with self._lock:
            for key in [key for key in list(self._copies) if key[0] == video_id]:
                self.used -= len(self._copies.pop(key).body)

    def _load(self, key):
        video_id, name = key
        files = self.manifests.files(video_id)
        if files is None or name not in files or files[name]["size"] > min(SMALL_FILE, self.budget):
            return None
        try:
            before = os.stat(self.node.video_path(video_id))
        except OSError:
            return None
        opened = self.manifests.open(video_id, name)
        if opened is None:
            return None
        fd, info, sha256 = opened
        with open(fd, "rb") as file:
            body = file.read()
        if hashlib.sha256(body).hexdigest() != sha256:
            return None  # changed on disk: served from the file as it is, and the player's check fails
        head = answer_head(file_headers(name, info, sha256) + EVERY_ANSWER)
        copy = Copy(head, body, (before.st_dev, before.st_ino))
        with self._lock:
            if key not in self._copies:
                self._copies[key] = copy
                self.used += len(body)
            self._copies.move_to_end(key)
            while self.used > self.budget:
                self.used -= len(self._copies.popitem(last=False)[1].body)
        return copy
