"""This edge's identity (its Ed25519 key) and its data directory.

    <data>/node.key        the node's key; its public half, in hex, is the node id
    <data>/trackers/       each tracker's public key, pinned from its first announce answer, and the key
                           of its latest answer (edge/trackerkey.py)
    <data>/uploads/        incoming files (`<id>.part` while arriving, `<job>.upload` once whole), never served
    <data>/staging/<job>/  packages being written
    <data>/videos/<id>/    published packages; publishing is one atomic rename from staging
"""
import os
import shutil

from protocol.ids import is_video_id
from protocol.signing import load_or_create_key, node_id

from .trackerkey import pin_all

MAPPED_URL = "mapped-url"  # the URL the home router's port mapping gives (edge/portmap.py)


class Node:
    def __init__(self, config):
        self.data_dir = os.path.abspath(config["SLIPSTREAM_DATA_DIR"])
        self.configured_url = config["SLIPSTREAM_PUBLIC_URL"]
        self.capacity = config["EDGE_CAPACITY"]
        self.clock = config["CLOCK"]  # Unix seconds for whatever expires (edge/config.py)
        self.disk_margin = config["EDGE_DISK_MARGIN"]
        self.uploads = os.path.join(self.data_dir, "uploads")
        self.staging = os.path.join(self.data_dir, "staging")
        self.videos = os.path.join(self.data_dir, "videos")
        for path in (self.uploads, self.staging, self.videos):
            os.makedirs(path, exist_ok=True)
        self.key = load_or_create_key(os.path.join(self.data_dir, "node.key"))
        self.id = node_id(self.key)
        # One PinnedKey per configured tracker, in EDGE_TRACKER_URL's order.
        self.trackers = pin_all(self.data_dir, config["EDGE_TRACKER_URL"], config["EDGE_TRACKER_KEY"])

    @property
    def public_url(self):
        """The URL this edge is reached at: the router's mapping of its port while it holds one
        (`<data>/mapped-url`, written by edge/portmap.py in the background process), else the configured one."""
        try:
            with open(self.path(MAPPED_URL)) as f:
                return f.read()
        except FileNotFoundError:
            return self.configured_url

    def proof_keys(self):
        """The tracker keys this edge proves its URL to (edge/proof.py): every tracker's pinned key,
        or None (any tracker) while one of them has none, as its first announce needs a proof."""
        keys = sorted(self.tracker_keys())
        return keys if len(keys) == len(self.trackers) else None

    def path(self, *parts):
        return os.path.join(self.data_dir, *parts)

    def upload_path(self, job_id):
        return os.path.join(self.uploads, f"{job_id}.upload")

    def part_path(self, hold_id):
        """A transfer still arriving (form or tus upload); renamed to `.upload` once whole."""
        return os.path.join(self.uploads, f"{hold_id}.part")

    def staging_path(self, job_id):
        return os.path.join(self.staging, job_id)

    def video_path(self, video_id):
        return os.path.join(self.videos, video_id)

    @property
    def tracker_pin(self):
        """The first configured tracker's pin (the one status's `tracker` names)."""
        return self.trackers[0]

    def tracker_key(self):
        """The first tracker's pinned key; None before its first answer."""
        return self.tracker_pin.pinned()

    def tracker_keys(self):
        """{pinned key: its tracker} (tickets are checked against these); a tracker not heard from
        yet has none."""
        return {key: tracker for tracker in self.trackers if (key := tracker.pinned())}

    def published(self):
        """Ids of the published videos, sorted."""
        return sorted(name for name in os.listdir(self.videos)
                      if is_video_id(name) and os.path.isdir(self.video_path(name)))

    def used(self):
        """Bytes on disk in videos/, uploads/ and staging/ (replicas and packages being written)."""
        return tree_size(self.videos) + tree_size(self.uploads) + tree_size(self.staging)

    def disk_free(self):
        """What the data dir's filesystem still has room for: statvfs's free space for unprivileged
        users, less EDGE_DISK_MARGIN (the machine's owner needs some too)."""
        stats = os.statvfs(self.data_dir)
        return max(stats.f_bavail * stats.f_frsize - self.disk_margin, 0)

    def publish(self, staging, video_id):
        """Move a verified package into videos/ atomically; False if that video was already here."""
        target = self.video_path(video_id)
        if not os.path.isdir(target):
            try:
                os.rename(staging, target)
            except OSError:  # another job published the same video a moment ago
                if not os.path.isdir(target):
                    raise
            else:
                _fsync_dir(self.videos)
                return True
        shutil.rmtree(staging, ignore_errors=True)
        return False

    def unpublish(self, video_id):
        """Take a video out of videos/ atomically (rename first, so no half-deleted dir is served)."""
        trash = os.path.join(self.staging, f"{video_id}.deleted.{os.getpid()}")
        try:
            os.rename(self.video_path(video_id), trash)
        except FileNotFoundError:
            return
        shutil.rmtree(trash, ignore_errors=True)


def tree_size(root):
    """Bytes of the files under `root` (0 if it is gone)."""
    total = 0
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:  # removed while we counted (a failed job, a dropped video)
        return 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                total += tree_size(entry.path)
            else:
                total += entry.stat(follow_symlinks=False).st_size
        except FileNotFoundError:
            pass
    return total


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
