"""Each configured tracker's key, pinned (README.md, trust model): upload tickets are checked against
them, and a tracker that answers with another key is refused loudly, never believed.

Its `EDGE_TRACKER_KEY` entry, when set, is a tracker's key. Otherwise the key in its first announce
answer is pinned in `<data>/trackers/<url hash>.pub` (trust on first use, as ssh's known_hosts) and
stays until the operator deletes that file. The key of its latest answer is kept in `….seen`, so that
every worker's `GET /api/v1/status` can say when the two differ. Both are files, not memory: every
gunicorn worker must see what the announcers (running in one of them) learned. The files are named
by a hash of the URL, so reordering EDGE_TRACKER_URL keeps each pin with its tracker; an edge from
before several trackers had `<data>/tracker.pub`, which becomes the first tracker's.
"""
import contextlib
import hashlib
import logging
import os
import tempfile

from protocol.ids import is_public_key

from .upstream import TrackerError

log = logging.getLogger(__name__)


class TrackerKeyMismatch(TrackerError):
    """The tracker answered with a key other than the pinned one: its answer is not acted on."""

REACHES = ("https", "http", "webrtc")

class PinnedKey:
    """One configured tracker: its URL and its key."""

    def __init__(self, data_dir, url, configured=None):
        self.url, self.configured = url, configured
        name = hashlib.sha256(url.encode()).hexdigest()[:16]
        os.makedirs(os.path.join(data_dir, "trackers"), exist_ok=True)
        self.pin_path = os.path.join(data_dir, "trackers", f"{name}.pub")
        self.seen_path = os.path.join(data_dir, "trackers", f"{name}.seen")
        self.reach_path = os.path.join(data_dir, "trackers", f"{name}.reach")

    def pinned(self):
        """The key tickets are checked against; None before the tracker's first answer."""
        return self.configured or _read_key(self.pin_path)

    def seen(self):
        return _read_key(self.seen_path)

    def check(self, key):
        """Accept the key of an announce answer: pinned on first contact, else it must be the pinned
        one. Raise TrackerError for an answer without a key (it could hide a changed one) and
        TrackerKeyMismatch for another key."""
        if not is_public_key(key):
            raise TrackerError(f"tracker {self.url} did not give its key (64 hex characters) in its answer")
        if key != self.seen():
            _write_key(self.seen_path, key)
        pinned = self.pinned() or _pin(self.pin_path, key)
        if pinned is None:
            raise TrackerError(f"{self.pin_path} holds no key (64 hex characters); delete it to pin the tracker's")
        if key != pinned:
            how = "its EDGE_TRACKER_KEY entry" if self.configured else self.pin_path
            message = (f"tracker {self.url} answered with key {key}, not the pinned {pinned} ({how}); its "
                       f"answers and tickets are refused. If its key really changed, set its EDGE_TRACKER_KEY "
                       f"entry to the new key or delete {self.pin_path}")
            log.error(message)
            raise TrackerKeyMismatch(message)

    def record_reach(self, reach):
        """How this tracker last measured the edge reachable (its announce answer's `reach`), kept on disk
        so that every worker's /api/v1/status tells the operator: `webrtc` means its URL cannot be opened
        from outside (a home edge behind NAT), and it serves through the tracker ("Home edges")."""
        if reach in REACHES and reach != self.reach():
            _write_key(self.reach_path, reach)

    def reach(self):
        try:
            with open(self.reach_path) as f:
                reach = f.read().strip()
        except FileNotFoundError:
            return None
        return reach if reach in REACHES else None

    def status(self):
        pinned, seen = self.pinned(), self.seen()
        return {"pinned": pinned, "seen": seen, "mismatch": bool(pinned and seen and seen != pinned),
                "reach": self.reach()}


def pin_all(data_dir, urls, keys):
    """The PinnedKey of every configured tracker (`keys[i]` None: pinned on first contact), after
    moving a single-tracker edge's pin files to the first tracker's names."""
    trackers = [PinnedKey(data_dir, url, key) for url, key in zip(urls, keys)]
    first = trackers[0]
    for old, new in ((os.path.join(data_dir, "tracker.pub"), first.pin_path),
                     (os.path.join(data_dir, "tracker.seen"), first.seen_path)):
        # Every worker runs this: another may have moved the file a moment ago.
        with contextlib.suppress(FileExistsError, FileNotFoundError):
            os.link(old, new)  # never replaces a pin already there
        with contextlib.suppress(FileNotFoundError):
            os.unlink(old)
    return trackers


def _read_key(path):
    try:
        with open(path) as f:
            key = f.read().strip()
    except FileNotFoundError:
        return None
    return key if is_public_key(key) else None


def _write_key(path, key):
    """Replace the file at `path` atomically (a reader sees the old key or the new one)."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".key-")
    with os.fdopen(fd, "w") as f:
        f.write(key)
    os.replace(tmp, path)


def _pin(path, key):
    """Pin `key` unless another worker pinned one a moment ago; return the pinned key. A hard link
    never replaces an existing file, so exactly one first answer wins."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".key-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(key)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    return _read_key(path)
