"""Running transcoding jobs: claim one, package it, verify, publish, register, announce.

Each running job holds an exclusive `flock` on `staging/<job>.lock`. The kernel drops it when its
process dies, so a job still packaging whose lock is free was abandoned by a killed edge: it is
queued again (`recover`), up to MAX_STARTS times, and then failed, its upload removed.

Once its package is published here a job only waits for its registration with the tracker that
signed its ticket (its origin; the others learn of the copy from the announce): a tracker that
is away or busy is tried again with back-off (REGISTER_FIRST_RETRY doubling up to
REGISTER_MAX_DELAY), by whichever job loop finds the try due, for up to REGISTER_PATIENCE seconds
after the upload. Meanwhile the job is "running" in the "registering" stage, its `message` says why
it waits, and no thread is held: other uploads are packaged in the meantime, and a restarted edge
carries on where it was (the registration, not the transcode).
"""
import fcntl
import logging
import os
import shutil
import threading
import time

from segmenter.errors import SegmenterError
from protocol.manifest import MANIFEST_NAME, verify_dir

from .announcer import announce
from .deny import is_denied
from .diskfull import filled_while, is_disk_full
from .files import remove_quietly
from .models import Job, db
from .upstream import TrackerError, post_signed

log = logging.getLogger(__name__)

POLL = 0.5  # seconds between looks at the queue; uploads may arrive in another process
MAX_STARTS = 3  # an upload whose packaging saw the edge die this often is given up (a crash loop)
REGISTER_FIRST_RETRY = 1.0  # seconds
REGISTER_MAX_DELAY = 60.0
REGISTER_PATIENCE = 86400.0  # seconds after the upload; then the package is removed and the job failed
RETRIED = {408, 429}  # besides 5xx and no answer at all: the tracker may say yes later


class PublishError(Exception):
    """A job's package could not be published; `status` is the HTTP-style status."""

    def __init__(self, message, status=500):
        super().__init__(message)
        self.status = status


def run_next(node, on_tasks=None):
    """Make one due registration try, else claim the oldest queued job and run it; False when
    there was nothing to do. `on_tasks` takes the tasks of the announce after publishing
    (edge/announcer.py)."""
    with db.connection_context():
        for job_id in Job.registrations_due(time.time()):
            with JobLock(node, job_id) as held:
                job = held and Job.find(job_id)
                if job and job.registration_due(time.time()):  # another loop may have just tried it
                    try_register(node, job, on_tasks)
                    return True
        for job_id in Job.queued_ids():
            with JobLock(node, job_id) as held:
                if held and Job.claim(job_id):
                    run(node, Job.find(job_id), on_tasks)
                    return True
    return False


def run(node, job, on_tasks=None):
    upload, staging = node.upload_path(job.id), node.staging_path(job.id)
    try:
        from segmenter import package

        shutil.rmtree(staging, ignore_errors=True)  # leftovers of an interrupted run
        os.makedirs(staging)
        video_id, manifest = package(upload, staging, on_progress=Progress(job))
        _keep_only_listed(staging, manifest)
        problems = verify_dir(staging, video_id)
        if problems:
            raise PublishError(f"the package does not match its manifest: {'; '.join(problems[:3])}")
        if is_denied(video_id):
            raise PublishError(f"this upload is the video {video_id}, which this edge's operator has denied; "
                               "nothing of it is kept", 451)
        created = node.publish(staging, video_id)
        # Recorded before the upload goes: an edge killed from here on resumes at the registration.
        job.await_registration(video_id, created, time.time())
        remove_quietly(upload)
    except Exception as exc:  # noqa: BLE001 - a job must end failed, never stay running
        # The partial package goes first: on a full disk, recording the failure needs its room.
        shutil.rmtree(staging, ignore_errors=True)
        job.fail(*_failure(job, exc))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if job.state == "failed":
            remove_quietly(upload)
    if job.stage == "registering":
        try_register(node, job, on_tasks)


def _failure(job, exc):
    """(message, status) a failed job records: 507 when the disk filled (whether ffmpeg, our own
    writes or the database said so), else the segmenter's or the publisher's status, else 500."""
    if is_disk_full(exc):
        log.warning("job %s failed, the disk is full: %s", job.id, exc)
        full = filled_while("packaging this upload")
        return full.message, full.status
    if isinstance(exc, (SegmenterError, PublishError)):
        log.info("job %s failed: %s", job.id, exc)
        return str(exc), getattr(exc, "status", 422)
    log.exception("job %s crashed", job.id)
    return f"internal error while packaging: {exc}", 500


def try_register(node, job, on_tasks=None):
    """One try at registering a job's published package; the job ends published, failed, or
    waiting for its next try (bounded back-off) when the tracker is away or busy."""
    try:
        register(node, job)
    except TrackerError as exc:
        now = time.time()
        delay = min(REGISTER_FIRST_RETRY * 2 ** job.register_tries, REGISTER_MAX_DELAY)
        if (exc.status is None or exc.status >= 500 or exc.status in RETRIED) \
                and now + delay < job.created + REGISTER_PATIENCE:
            log.warning("job %s: registration of %s failed, retrying in %.0f s: %s", job.id, job.video_id, delay, exc)
            job.retry_registration(now + delay, f"waiting for the tracker to register the video "
                                                f"(try {job.register_tries + 1} failed: {exc})")
            return
        give_up(node, job, f"the tracker did not register the video: {exc}", 502)
        return
    except Exception as exc:  # noqa: BLE001 - a job must end failed, never stay running
        log.exception("job %s: registration crashed", job.id)
        give_up(node, job, f"internal error while registering: {exc}", 500)
        return
    try:
        announce(node, origin(node, job), on_tasks=on_tasks)
    except TrackerError as exc:  # registered already; the next regular announce catches up
        log.warning("announce after publishing %s failed: %s", job.video_id, exc)
    job.publish(job.video_id)
    log.info("job %s published video %s", job.id, job.video_id)


def give_up(node, job, message, status):
    """Fail a job whose package the tracker will not take; the package goes if the job made it."""
    log.info("job %s failed: %s", job.id, message)
    if job.owns_package:
        node.unpublish(job.video_id)
    job.fail(message, status)


def register(node, job):
    """Tell the tracker that placed this job's upload that it became its video. The tracker reads
    everything else (size, duration, renditions) from the manifest it fetches here."""
    payload = {"node": node.id, "timestamp": time.time(), "upload": job.ticket_payload["upload"],
               "video_id": job.video_id}
    return post_signed(node, origin(node, job).url, "/api/v1/videos", payload)


def origin(node, job):
    """The configured tracker whose key signed the job's ticket (edge/tickets.py); a job queued by an
    edge with one tracker has no `tracker` in its ticket and belongs to the first."""
    key = job.ticket_payload.get("tracker")
    if key is None:
        return node.trackers[0]
    tracker = node.tracker_keys().get(key)
    if tracker is None:  # the operator removed that tracker, or its pin, since the upload
        raise TrackerError(f"no configured tracker has the key {key} that signed the upload's ticket", 403)
    return tracker


class Progress:
    """The `on_progress` callback: writes to the database at most every 1 % or 0.5 s."""

    def __init__(self, job):
        self.job, self.last, self.written = job, -1.0, 0.0

    def __call__(self, report):
        progress = float(report.get("progress") or 0.0)
        now = time.monotonic()
        if progress - self.last >= 0.01 or now - self.written >= 0.5:
            self.job.report(progress, report.get("eta"))
            self.last, self.written = progress, now


class JobLock:
    """Non-blocking exclusive flock on `staging/<job>.lock`; `with` yields whether it was taken."""

    def __init__(self, node, job_id):
        self.path = os.path.join(node.staging, f"{job_id}.lock")
        self.fd, self.held = None, False

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        # The previous holder removes the file before unlocking; a lock on that removed inode
        # proves nothing, so it counts only if the path still names the inode we locked.
        try:
            self.held = os.stat(self.path).st_ino == os.fstat(self.fd).st_ino
        except FileNotFoundError:
            self.held = False
        return self.held

    def __exit__(self, *exc):
        if self.held:
            remove_quietly(self.path)  # removed while still locked: no one can lock a stale inode after us
        os.close(self.fd)


def recover(node):
    """Queue again the jobs a process that died left packaging, or fail those it died on
    MAX_STARTS times; return the ids re-queued. Their half-written packages are removed, and a
    failed job's upload. (A job waiting for its registration needs nothing: its next try is due.)"""
    requeued, failed = [], []
    with db.connection_context():
        for job_id in Job.transcoding_ids():
            with JobLock(node, job_id) as held:
                job = held and Job.find(job_id)
                if not job or job.state != "running":
                    continue
                shutil.rmtree(node.staging_path(job_id), ignore_errors=True)
                if job.starts >= MAX_STARTS:
                    job.fail(f"the edge stopped {job.starts} times while packaging this upload; given up", 500)
                    remove_quietly(node.upload_path(job_id))
                    failed.append(job_id)
                elif Job.requeue(job_id):
                    requeued.append(job_id)
    if requeued:
        log.warning("re-queued jobs abandoned by a stopped edge: %s", ", ".join(requeued))
    if failed:
        log.error("failed jobs the edge stopped on %d times: %s", MAX_STARTS, ", ".join(failed))
    return requeued


class JobLoop(threading.Thread):
    def __init__(self, node, name="edge-jobs", on_tasks=None):
        super().__init__(name=name, daemon=True)
        self.node, self.on_tasks = node, on_tasks
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            try:
                busy = run_next(self.node, self.on_tasks)
            except Exception:  # noqa: BLE001 - e.g. a locked database: log, keep serving the queue
                log.exception("job loop error")
                busy = False
            if not busy:
                self._stop_event.wait(POLL)

    def stop(self, timeout=5):
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)


def _keep_only_listed(staging, manifest):
    """Drop anything the packager left that its manifest does not list (it would never be served)."""
    for name in os.listdir(staging):
        if name != MANIFEST_NAME and name not in manifest["files"]:
            log.warning("removing unlisted file %r from the package", name)
            path = os.path.join(staging, name)
            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)
