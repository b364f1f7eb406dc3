"""Work a tracker does in a thread of one of its processes on a machine (audits, following the
peers' feeds): the holder of a lock file in the data dir runs it, so gunicorn's workers do not each
run their own. Across machines on one PostgreSQL the work itself takes an advisory lock per round
(db.only_process)."""
import fcntl
import logging
import os
import threading

log = logging.getLogger(__name__)


def machine_lock(data_dir, name):
    """The open descriptor of the lock file `name` in the data dir if this process alone on the
    machine holds it (kept for the process's life: it is freed when the process ends), else None."""
    fd = os.open(os.path.join(data_dir, name), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)  # another process of this tracker holds it
        return None
    return fd


class Loop(threading.Thread):
    """Calls `step` until stopped; `step` returns the seconds to wait before its next call, or None
    when its work is done for good. A step that raises is logged and tried again after `retry`
    seconds: the loop outlives any one failure."""

    def __init__(self, name, step, retry, lock_fd):
        super().__init__(name=name, daemon=True)
        self.step, self.retry, self.lock_fd, self.stopped = step, retry, lock_fd, threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                wait = self.step()
            except Exception:
                log.exception("%s: a round failed", self.name)
                wait = self.retry
            if wait is None:
                return
            self.stopped.wait(wait)

    def stop(self):
        self.stopped.set()


def start_alone(app, lock_name, name, step, retry):
    """Start `step`'s loop if this process is the one on this machine to run it; return it or None."""
    fd = machine_lock(app.config["SLIPSTREAM_DATA_DIR"], lock_name)
    if fd is None:
        return None
    loop = Loop(name, step, retry, fd)
    loop.start()
    return loop
