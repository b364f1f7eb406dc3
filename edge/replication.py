"""Pulling a copy of a video from other edges when the tracker asks (README.md, trust model: leaving a video).

No source is trusted: the manifest must hash to the video id, and every file must have the size
and SHA-256 the manifest gives, or it is discarded and fetched from the next source. Sources are
URLs someone else named, so they are fetched through the guarded client (protocol/http.py: the
resolved address checked, no redirects; loopback and private addresses only with
EDGE_ALLOW_PRIVATE), each file capped at its listed size and given a deadline scaled to it. The
package is assembled in staging/ under a capacity hold and published with one rename, so nothing
unverified is ever served. A disk that fills meanwhile ends the pull with 507
`insufficient_storage`, its staging dir removed and its hold released.
"""
import hashlib
import logging
import os
import queue
import shutil
import threading

from protocol.errors import ManifestError
from protocol.http import GuardedClient, UnsafeRequest
from protocol.ids import is_video_id
from protocol.manifest import MANIFEST_NAME, package_size, parse_manifest, verify_dir

from . import handover
from .announcer import announce_all
from .capacity import release, reserve
from .diskfull import full_disk_is_507, is_disk_full
from .errors import ApiError
from .files import remove_quietly
from .jobs import JobLock
from .models import db
from .tus import new_id
from .upstream import TrackerError

log = logging.getLogger(__name__)

MANIFEST_LIMIT = 4 << 20
# A file's deadline: a start-up allowance, plus its size at the slowest rate a source may send.
BASE_DEADLINE = 10.0  # seconds
MIN_RATE = 256 * 1024  # bytes per second (2 Mbit/s, a slow home uplink)
MAX_DEADLINE = 3600.0


class ReplicationError(Exception):
    """A video could not be copied from any of its sources."""


def pull_client(allow_private=False):
    """The guarded client replication fetches with (EDGE_ALLOW_PRIVATE: loopback and private sources)."""
    return GuardedClient(allow_private=allow_private, deadline=MAX_DEADLINE, max_bytes=MANIFEST_LIMIT)


def deadline_for(size):
    return min(BASE_DEADLINE + size / MIN_RATE, MAX_DEADLINE)


def replicate(node, video_id, sources, client, size=None):
    """Copy `video_id` from `sources` (edge base URLs) with `client` (`pull_client`); return True once
    published here. With `size` (the package's bytes, manifest included, as the tracker registered
    them) that much is held before anything is fetched, and a manifest listing more is refused."""
    if os.path.isdir(node.video_path(video_id)):
        return True
    hold_id = new_id()
    staging = node.staging_path(hold_id)
    # The lock first: a hold whose lock is free looks abandoned to the sweeper.
    # A full disk becomes the 507 once the finally below has removed the files and the hold.
    with JobLock(node, hold_id), full_disk_is_507(f"pulling video {video_id}"):
        try:
            if size is not None:
                hold(node, hold_id, size)
            raw, manifest, total = fetch_manifest(video_id, sources, client)
            if size is None:
                hold(node, hold_id, total)
            elif total > size:
                raise ReplicationError(f"the manifest of {video_id} lists {total} bytes, more than the {size} "
                                       "held for it")
            os.makedirs(staging)
            for name, entry in manifest["files"].items():
                if name != MANIFEST_NAME and \
                        not any(download(client, source, video_id, name, entry, staging) for source in sources):
                    raise ReplicationError(f"no source sent {name} of {video_id} intact")
            with open(os.path.join(staging, MANIFEST_NAME), "wb") as f:
                f.write(raw)
            problems = verify_dir(staging, video_id)  # the whole package once more, as published
            if problems:
                raise ReplicationError(f"{video_id} does not verify: {'; '.join(problems[:3])}")
            node.publish(staging, video_id)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # first: the database needs the room to release
            with db.connection_context():
                release(hold_id)
    log.info("replicated video %s from %s", video_id, ", ".join(sources))
    return True


def hold(node, hold_id, size):
    with db.connection_context():
        reserve(node, hold_id, "replica", size, expires=0)


def fetch_manifest(video_id, sources, client):
    """(bytes, parsed manifest, package size) from the first source whose manifest checks out."""
    for source in sources:
        url = f"{source}/videos/{video_id}/{MANIFEST_NAME}"
        try:
            answer = client.request("GET", url, max_bytes=MANIFEST_LIMIT, deadline=deadline_for(MANIFEST_LIMIT))
            if answer.status != 200:
                raise ReplicationError(f"{url} answered {answer.status}")
            manifest = parse_manifest(answer.body, video_id)
            return answer.body, manifest, package_size(answer.body, manifest)
        except (UnsafeRequest, ManifestError, ReplicationError) as exc:
            log.warning("manifest of %s from %s refused: %s", video_id, source, exc)
    raise ReplicationError(f"no source sent a manifest that hashes to {video_id}")


class HashingWriter:
    """Writes to a file while counting and hashing what passes."""

    def __init__(self, out):
        self.out, self.digest, self.size = out, hashlib.sha256(), 0

    def write(self, chunk):
        self.digest.update(chunk)
        self.size += len(chunk)
        self.out.write(chunk)


def download(client, source, video_id, name, entry, staging):
    """Fetch one file into staging; True only if its size and SHA-256 match the manifest."""
    path, url = os.path.join(staging, name), f"{source}/videos/{video_id}/{name}"
    try:
        with open(path, "wb") as out:
            writer = HashingWriter(out)
            # Capped at the listed size: a longer answer is wrong whatever follows, and is cut there.
            answer = client.request("GET", url, max_bytes=max(entry["size"], 1), deadline=deadline_for(entry["size"]),
                                    into=writer)
        if answer.status == 200 and writer.size == entry["size"] and writer.digest.hexdigest() == entry["sha256"]:
            return True
        reason = f"status {answer.status}" if answer.status != 200 else "not the listed bytes"
    except (UnsafeRequest, OSError) as exc:
        if is_disk_full(exc):
            raise  # no other source can help with that
        reason = str(exc)
    log.warning("%s of %s from %s discarded: %s", name, video_id, source, reason)
    remove_quietly(path)
    return False


class Replicator(threading.Thread):
    """Carries out the trackers' tasks one video at a time, off the announcers' threads.

    Several trackers may each ask for the same video: a replicate task for a video held here or
    already pending is dropped, so it is pulled once; a delete waits for every tracker's word
    (edge/handover.py)."""

    def __init__(self, node, client):
        super().__init__(name="edge-replicator", daemon=True)
        self.node, self.client, self.tasks, self.pending = node, client, queue.Queue(), set()
        self._lock, self._stop_event = threading.Lock(), threading.Event()
        # Called once a copy is published here; edge/background.py has the announcers announce at
        # once, each on its own thread, so a dead tracker holds up no pull.
        self.after_copy = lambda: announce_all(self.node, on_tasks=self.submit)

    def submit(self, tasks, tracker=None):
        """Queue the tasks of `tracker`'s answer (a PinnedKey; None: a single-tracker caller)."""
        for task in tasks if isinstance(tasks, list) else []:
            video_id = task.get("video_id") if isinstance(task, dict) else None
            if not is_video_id(video_id):
                continue
            if task.get("action") == "delete":
                handover.delete_copy(self.node, video_id, tracker and tracker.url)
            elif task.get("action") == "remove":
                handover.remove_copy(self.node, video_id, tracker and tracker.url, str(task.get("reason", ""))[:100])
            elif task.get("action") == "replicate" and isinstance(task.get("sources"), list):
                size = task.get("size")
                if size is not None and not (isinstance(size, int) and not isinstance(size, bool) and size > 0):
                    log.warning("replicate task for %s ignored: size %r is not a positive integer", video_id, size)
                    continue
                with self._lock:
                    if video_id in self.pending or os.path.isdir(self.node.video_path(video_id)):
                        continue
                    self.pending.add(video_id)
                self.tasks.put((video_id, [str(s).rstrip("/") for s in task["sources"]][:20], size))

    def run(self):
        while not self._stop_event.is_set():
            try:
                video_id, sources, size = self.tasks.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                replicate(self.node, video_id, sources, self.client, size)
                # The trackers count the copy from this announce on.
                self.after_copy()
            except (ReplicationError, ApiError, TrackerError) as exc:
                log.warning("replication of %s abandoned: %s", video_id, exc)
            except Exception:  # noqa: BLE001 - one bad task must not stop the others
                log.exception("replication of %s crashed", video_id)
            finally:
                with self._lock:
                    self.pending.discard(video_id)

    def stop(self, timeout=5):
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
