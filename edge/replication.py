"""Pulling a copy of a video from other edges when the tracker asks (README.md, trust model: leaving a video).

No source is trusted: the manifest must hash to the video id, and every file must have the size
and SHA-256 the manifest gives, or it is discarded and fetched from the next source. The package
is assembled in staging/ under a capacity hold and published with one rename, so nothing
unverified is ever served.
"""
import hashlib
import logging
import os
import queue
import shutil
import threading

import requests

from protocol.errors import ManifestError
from protocol.ids import is_video_id
from protocol.manifest import MANIFEST_NAME, parse_manifest, verify_dir

from . import handover
from .announcer import announce
from .capacity import release, reserve
from .errors import ApiError
from .jobs import JobLock
from .models import db
from .tus import new_id
from .upstream import TrackerError

log = logging.getLogger(__name__)

TIMEOUT = 30  # seconds without a byte before a source counts as failed
MANIFEST_LIMIT = 4 << 20
CHUNK = 1 << 16


class ReplicationError(Exception):
    """A video could not be copied from any of its sources."""


def replicate(node, video_id, sources, session=requests):
    """Copy `video_id` from `sources` (edge base URLs); return True once published here."""
    if os.path.isdir(node.video_path(video_id)):
        return True
    raw, manifest = fetch_manifest(video_id, sources, session)
    files = {name: entry for name, entry in manifest["files"].items() if name != MANIFEST_NAME}
    size = len(raw) + sum(int(entry["size"]) for entry in files.values())
    hold_id = new_id()
    staging = node.staging_path(hold_id)
    # The lock first: a hold whose lock is free looks abandoned to the sweeper.
    with JobLock(node, hold_id):
        with db.connection_context():
            reserve(node, hold_id, "replica", size, expires=0)
        try:
            os.makedirs(staging)
            for name, entry in files.items():
                if not any(download(session, source, video_id, name, entry, staging) for source in sources):
                    raise ReplicationError(f"no source sent {name} of {video_id} intact")
            with open(os.path.join(staging, MANIFEST_NAME), "wb") as f:
                f.write(raw)
            problems = verify_dir(staging, video_id)  # the whole package once more, as published
            if problems:
                raise ReplicationError(f"{video_id} does not verify: {'; '.join(problems[:3])}")
            node.publish(staging, video_id)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            with db.connection_context():
                release(hold_id)
    log.info("replicated video %s from %s", video_id, ", ".join(sources))
    return True


def fetch_manifest(video_id, sources, session):
    for source in sources:
        try:
            raw = _get(session, f"{source}/videos/{video_id}/{MANIFEST_NAME}", MANIFEST_LIMIT)
            return raw, parse_manifest(raw, video_id)
        except (requests.RequestException, ManifestError, ReplicationError) as exc:
            log.warning("manifest of %s from %s refused: %s", video_id, source, exc)
    raise ReplicationError(f"no source sent a manifest that hashes to {video_id}")


def download(session, source, video_id, name, entry, staging):
    """Fetch one file into staging; True only if its size and SHA-256 match the manifest."""
    path = os.path.join(staging, name)
    digest, size = hashlib.sha256(), 0
    try:
        with session.get(f"{source}/videos/{video_id}/{name}", stream=True, timeout=TIMEOUT) as answer, \
                open(path, "wb") as out:
            answer.raise_for_status()
            for chunk in answer.iter_content(CHUNK):
                size += len(chunk)
                if size > entry["size"]:
                    break  # longer than listed: wrong, whatever follows
                digest.update(chunk)
                out.write(chunk)
    except (requests.RequestException, OSError) as exc:
        log.warning("%s of %s from %s failed: %s", name, video_id, source, exc)
        size = -1
    if size == entry["size"] and digest.hexdigest() == entry["sha256"]:
        return True
    log.warning("%s of %s from %s discarded: not the listed bytes", name, video_id, source)
    if os.path.exists(path):
        os.remove(path)
    return False


def _get(session, url, limit):
    with session.get(url, stream=True, timeout=TIMEOUT) as answer:
        answer.raise_for_status()
        data = b""
        for chunk in answer.iter_content(CHUNK):
            data += chunk
            if len(data) > limit:
                raise ReplicationError(f"{url} is over {limit} bytes")
        return data


class Replicator(threading.Thread):
    """Carries out the tracker's tasks one video at a time, off the announcer's thread."""

    def __init__(self, node):
        super().__init__(name="edge-replicator", daemon=True)
        self.node, self.tasks, self.pending = node, queue.Queue(), set()
        self._lock, self._stop_event = threading.Lock(), threading.Event()

    def submit(self, tasks):
        for task in tasks if isinstance(tasks, list) else []:
            video_id = task.get("video_id") if isinstance(task, dict) else None
            if not is_video_id(video_id):
                continue
            if task.get("action") == "delete":
                handover.delete_copy(self.node, video_id)
            elif task.get("action") == "replicate" and isinstance(task.get("sources"), list):
                with self._lock:
                    if video_id in self.pending:
                        continue
                    self.pending.add(video_id)
                self.tasks.put((video_id, [str(s).rstrip("/") for s in task["sources"]][:20]))

    def run(self):
        while not self._stop_event.is_set():
            try:
                video_id, sources = self.tasks.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                replicate(self.node, video_id, sources)
                # The tracker counts the copy from this announce on.
                announce(self.node, on_tasks=self.submit)
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
