"""Keeping within EDGE_CAPACITY and the real free disk while transfers are in flight, and cleaning
up after a crash.

Free space (edge/space.py) is the smaller of capacity − bytes held and the disk's free space less
EDGE_DISK_MARGIN, minus what holds still promise. A hold is taken in the same `BEGIN IMMEDIATE`
transaction that checks the free space, so two uploads racing for the last gigabyte cannot both
pass. Its holder keeps `JobLock(hold id)` for as long as it writes; `sweep` treats a hold (or a file
in uploads/) whose lock it can take as left behind by a dead process.
"""
import json
import logging
import os
import shutil

from .diskfull import insufficient_storage
from .errors import ApiError
from .files import remove_quietly
from .jobs import JobLock
from .models import Hold, Job, db
from .space import free_space

log = logging.getLogger(__name__)

GRACE = 60  # seconds: a file this young may belong to a receiver that has not locked it yet


def reserve(node, hold_id, kind, size, expires, ticket=None, filename=""):
    """Check the room and record a hold atomically; raise 409 for a used ticket, 507 when full."""
    upload = ticket and str(ticket["upload"])
    with db.atomic("IMMEDIATE"):
        if upload:
            check_unused(upload)
        check_room(node, size)
        return Hold.create(id=hold_id, kind=kind, size=size, upload=upload, expires=expires,
                           ticket=json.dumps(ticket) if ticket else None, filename=filename)


def check_room(node, size, spooled=0):
    """Raise 507 unless `size` more bytes fit within EDGE_CAPACITY and the real disk, after the holds
    (and `spooled` more on the disk alone: see free_space)."""
    free = free_space(node, spooled=spooled)
    if size > free:
        raise insufficient_storage(f"this edge has {max(free, 0)} bytes free")


def check_unused(upload):
    """Raise 409 if a ticket's upload was already received or is being received (single use)."""
    if Job.upload_in_use(upload) or Hold.select().where(Hold.upload == upload).exists():
        raise ApiError(409, "ticket_used", "this ticket's upload was already received or is in progress")


def release(hold_id):
    Hold.delete().where(Hold.id == hold_id).execute()


def complete(node, hold_id, ticket, size):
    """A whole upload becomes a queued job with the same id; its hold ends in the same commit."""
    os.rename(node.part_path(hold_id), node.upload_path(hold_id))
    with db.atomic("IMMEDIATE"):
        release(hold_id)
        return Job.queue(hold_id, ticket, size)


def sweep(node, now=None):
    """Remove what dead transfers left: their holds, half-received files, replica staging dirs."""
    now = node.clock() if now is None else now
    removed = []
    with db.connection_context():
        for hold in list(Hold.select()):
            if hold.kind == "tus" and hold.expires > now:
                continue  # resumable until its ticket expires, even with nobody sending right now
            with JobLock(node, hold.id) as free:
                if free:
                    remove_quietly(node.part_path(hold.id))
                    shutil.rmtree(node.staging_path(hold.id), ignore_errors=True)
                    release(hold.id)
                    removed.append(hold.id)
        holds = {hold_id for (hold_id,) in Hold.select(Hold.id).tuples()}
        jobs = set(Job.queued_ids(limit=None)) | set(Job.running_ids())
        for name in os.listdir(node.uploads):
            stem, ext = os.path.splitext(name)
            path = os.path.join(node.uploads, name)
            if (ext == ".part" and stem in holds) or (ext == ".upload" and stem in jobs) \
                    or now - _mtime(path) < GRACE:
                continue
            with JobLock(node, stem) as free:
                if free:
                    remove_quietly(path)
                    removed.append(name)
    if removed:
        log.warning("removed what interrupted transfers left: %s", ", ".join(removed))
    return removed


def _mtime(path):
    try:
        return os.path.getmtime(path)
    except FileNotFoundError:
        return 0
