"""Announcing this edge to each of its trackers: on start, every `interval` seconds, and after a publish.

Each tracker has its own Announcer thread on its own schedule (its answer's `interval`), so a dead or
slow tracker delays only the announces to itself.
"""
import logging
import threading
import time

from .deny import denied_ids
from .space import report
from .upstream import TrackerError, post_signed

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0
FIRST_RETRY = 1.0  # a tracker started at the same moment (make run) is found within seconds


def announce(node, tracker, event="", timeout=10, on_tasks=None):
    """Send one signed announce to `tracker` (a PinnedKey of node.trackers); return its answer once
    its key is the pinned one (the first answer pins it; edge/trackerkey.py), else raise
    TrackerError and act on nothing in it.

    `on_tasks(tasks, tracker)` takes the tasks the answer carries: the replicator's `submit` in the
    process that runs it (edge/background.py wires it in), None elsewhere."""
    # Room as the edge itself counts it (edge/space.py): `used` includes the bytes promised to
    # transfers in flight, and `free` is what is left within EDGE_CAPACITY and the real disk.
    space = report(node)
    payload = {
        "node": node.id,
        "timestamp": time.time(),
        "url": node.public_url,
        "capacity": space["capacity"],
        "free": space["free"],
        "used": space["used"],
        # A denied video's copy is deleted when it is denied; this keeps one that could not be out too.
        "videos": sorted(set(node.published()) - denied_ids()),
        "event": event,
    }
    answer = post_signed(node, tracker.url, "/api/v1/nodes/announce", payload, timeout=timeout)
    tracker.check(answer.get("tracker"))
    tracker.record_reach(answer.get("reach"))
    # Every answer may carry tasks (replicate, delete), and the tracker hands each out once; so
    # whoever announced, the process running the replicator (if this is it) gets them.
    if on_tasks is not None and answer.get("tasks"):
        on_tasks(answer["tasks"], tracker)
    return answer


def announce_all(node, trackers=None, event="", timeout=10, on_tasks=None):
    """Announce to each of `trackers` (default: all) in turn; a failure is logged, never raised."""
    for tracker in node.trackers if trackers is None else trackers:
        try:
            announce(node, tracker, event, timeout, on_tasks)
        except TrackerError as exc:
            log.warning("announce to %s failed: %s", tracker.url, exc)


class Announcer(threading.Thread):
    """Announces to one tracker until stopped; its errors are logged and retried, never raised."""

    def __init__(self, node, tracker, interval=None, on_tasks=None):
        super().__init__(name=f"edge-announcer-{tracker.url}", daemon=True)
        self.node, self.tracker, self.override, self.on_tasks = node, tracker, interval, on_tasks
        self.interval = interval or DEFAULT_INTERVAL
        self.answer = None  # the last answer
        self._stop_event, self._poked = threading.Event(), threading.Event()

    def poke(self):
        """Announce now rather than at the next interval (a copy was just published here)."""
        self._poked.set()

    def run(self):
        event, retry = "started", FIRST_RETRY
        while not self._stop_event.is_set():
            try:
                self.answer = announce(self.node, self.tracker, event, on_tasks=self.on_tasks)
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure
                if not isinstance(exc, TrackerError):
                    log.exception("announce to %s failed unexpectedly", self.tracker.url)
                log.warning("announce to %s failed, retrying in %.0f s: %s", self.tracker.url,
                            min(retry, self.interval), exc)
                wait, retry = min(retry, self.interval), retry * 2
            else:
                event, retry = "", FIRST_RETRY
                self.interval = self.override or _positive(self.answer.get("interval")) or DEFAULT_INTERVAL
                wait = self.interval
            self._poked.wait(wait)
            self._poked.clear()

    def stop(self, timeout=5):
        """Stop the loop, then tell the tracker we are leaving (best effort, short timeout)."""
        self._stop_event.set()
        self._poked.set()
        if self.is_alive():
            self.join(timeout)
        try:
            announce(self.node, self.tracker, "stopped", timeout=2, on_tasks=self.on_tasks)
        except TrackerError as exc:
            log.info("could not announce 'stopped' to %s: %s", self.tracker.url, exc)


def _positive(value):
    return float(value) if isinstance(value, (int, float)) and value > 0 else None
