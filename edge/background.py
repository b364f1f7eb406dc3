"""The edge's background threads (an announcer per tracker, job loop, the WebRTC loop), in exactly one
process per data dir.

gunicorn starts WEB_CONCURRENCY copies of the app; the first to take a non-blocking `flock` on
`<data>/background.lock` runs the threads and keeps the lock for its lifetime. If that worker dies,
the kernel frees the lock and the worker gunicorn starts in its place takes it.
"""
import atexit
import fcntl
import logging
import os
import threading

from .announcer import Announcer
from .capacity import sweep
from .jobs import JobLoop, recover
from .portmap import PortMapper, clear_mapped_url, needs_mapping
from .replication import Replicator, pull_client
from .webrtc.service import WebRTCService

log = logging.getLogger(__name__)


class Background:
    """The running threads; `on_tasks` takes the trackers' tasks from any announce in this process."""

    def __init__(self, lock_fd, threads, on_tasks):
        self.lock_fd, self.threads, self.on_tasks = lock_fd, threads, on_tasks

    def stop(self):
        """Stop every thread (the announcer says 'stopped' to the tracker), then free the lock."""
        if self.lock_fd is None:
            return
        for thread in self.threads:
            # Short: gunicorn kills a worker 5 s after SIGTERM; an interrupted job is recovered.
            thread.stop(timeout=1)
        os.close(self.lock_fd)
        self.lock_fd = None


def start(app):
    """Start the threads if this process takes the lock; return the Background or None."""
    node = app.extensions["edge"]
    fd = os.open(node.path("background.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    recover(node)
    sweep(node)
    replicator = Replicator(node, pull_client(app.config["EDGE_ALLOW_PRIVATE"]))
    # Every announce made here hands the answer's tasks to the replicator (edge/announcer.py).
    on_tasks = replicator.submit
    announcers = [Announcer(node, tracker, app.config["EDGE_ANNOUNCE_INTERVAL"], on_tasks) for tracker in node.trackers]
    replicator.after_copy = lambda: [announcer.poke() for announcer in announcers]
    threads = [replicator, *announcers, Sweeper(node)]
    clear_mapped_url(node)  # a mapping a previous run held is not this run's
    if app.config["EDGE_UPNP"] and needs_mapping(node.configured_url):
        # First, so that it is the first stopped: deleting the mapping must fit in gunicorn's grace time.
        threads.insert(0, PortMapper(node, on_change=lambda: [announcer.poke() for announcer in announcers]))
    if app.config["EDGE_WEBRTC_PEERS"]:
        by_tracker = dict(zip(node.trackers, announcers))
        # A home edge's announce is refused until its socket is proven: announce again at once then.
        threads.append(WebRTCService(node, app.extensions["edge.manifests"], app.config["EDGE_WEBRTC_PEERS"],
                                     app.config["SLIPSTREAM_ICE_ADDRESSES"], lambda tracker: by_tracker[tracker].poke()))
    threads += [JobLoop(node, f"edge-jobs-{n}", on_tasks) for n in range(app.config["EDGE_JOB_THREADS"])]
    for thread in threads:
        thread.start()
    background = Background(fd, threads, on_tasks)
    # Daemon threads and atexit: gunicorn workers leave through sys.exit, which runs this.
    atexit.register(background.stop)
    log.info("background threads started in process %d", os.getpid())
    return background


class Sweeper(threading.Thread):
    """Clears what dead transfers left (edge/capacity.py) every SWEEP_EVERY seconds."""

    SWEEP_EVERY = 60

    def __init__(self, node):
        super().__init__(name="edge-sweeper", daemon=True)
        self.node, self._stop_event = node, threading.Event()

    def run(self):
        while not self._stop_event.wait(self.SWEEP_EVERY):
            try:
                sweep(self.node)
            except Exception:  # noqa: BLE001 - e.g. a locked database: try again next round
                log.exception("sweep failed")

    def stop(self, timeout=5):
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
