"""Announcing this edge to its tracker: on start, every `interval` seconds, and after a publish."""
import logging
import threading
import time

from .space import report
from .upstream import TrackerError, post_signed

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0
FIRST_RETRY = 1.0  # a tracker started at the same moment (make run) is found within seconds


def announce(node, event="", timeout=10, on_tasks=None):
    """Send one signed announce; return the tracker's answer once its key is the pinned one (the
    first answer pins it; edge/trackerkey.py), else raise TrackerError and act on nothing in it.

    `on_tasks` takes the tasks the answer carries: the replicator's `submit` in the process that
    runs it (edge/background.py wires it in), None elsewhere."""
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
        "videos": node.published(),
        "event": event,
    }
    answer = post_signed(node, "/api/v1/nodes/announce", payload, timeout=timeout)
    node.tracker_pin.check(answer.get("tracker"), node.tracker_url)
    # Every answer may carry tasks (replicate, delete), and the tracker hands each out once; so
    # whoever announced, the process running the replicator (if this is it) gets them.
    if on_tasks is not None and answer.get("tasks"):
        on_tasks(answer["tasks"])
    return answer


class Announcer(threading.Thread):
    """Announces until stopped; tracker errors are logged and retried, never raised."""

    def __init__(self, node, interval=None, on_tasks=None):
        super().__init__(name="edge-announcer", daemon=True)
        self.node, self.override, self.on_tasks = node, interval, on_tasks
        self.interval = interval or DEFAULT_INTERVAL
        self.answer = None  # the last answer
        self._stop_event = threading.Event()

    def run(self):
        event, retry = "started", FIRST_RETRY
        while not self._stop_event.is_set():
            try:
                self.answer = announce(self.node, event, on_tasks=self.on_tasks)
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure
                if not isinstance(exc, TrackerError):
                    log.exception("announce failed unexpectedly")
                log.warning("announce failed, retrying in %.0f s: %s", min(retry, self.interval), exc)
                wait, retry = min(retry, self.interval), retry * 2
            else:
                event, retry = "", FIRST_RETRY
                self.interval = self.override or _positive(self.answer.get("interval")) or DEFAULT_INTERVAL
                wait = self.interval
            self._stop_event.wait(wait)

    def stop(self, timeout=5):
        """Stop the loop, then tell the tracker we are leaving (best effort, short timeout)."""
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
        try:
            announce(self.node, "stopped", timeout=2, on_tasks=self.on_tasks)
        except TrackerError as exc:
            log.info("could not announce 'stopped': %s", exc)


def _positive(value):
    return float(value) if isinstance(value, (int, float)) and value > 0 else None
