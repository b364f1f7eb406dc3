"""Checking an upload ticket: signed by one of our trackers, for this node, unexpired, for a size."""
import time

from protocol.errors import BadSignature
from protocol.tickets import decode_ticket

from .announcer import announce
from .errors import ApiError
from .upstream import TrackerError


def learn_keys(node, on_tasks=None):
    """Announce to the trackers not heard from yet (their first answer pins their key); return the
    keys newly pinned."""
    before, failures = node.tracker_keys(), []
    for tracker in node.trackers:
        if tracker.pinned() is None:
            try:
                announce(node, tracker, on_tasks=on_tasks)
            except TrackerError as exc:
                failures.append(str(exc))
    learnt = [key for key in node.tracker_keys() if key not in before]
    if not learnt and not before:
        raise ApiError(503, "tracker_unreachable",
                       f"this edge cannot check tickets before reaching a tracker: {'; '.join(failures)}")
    return learnt


def signer(ticket, keys):
    """(payload, key) of the first of `keys` that signed `ticket`, or (None, the last problem)."""
    problem = "no tracker key is pinned yet"
    for key in keys:
        try:
            # now=0: check only the signature here, so that expiry gets an answer of its own.
            return decode_ticket(ticket, key, now=0), key
        except BadSignature as exc:
            problem = str(exc)
    return None, problem


def check_ticket(node, ticket, now=None, on_tasks=None):
    """Return the ticket's payload, its `tracker` the key that signed it, or raise ApiError with the
    reason it is refused. `on_tasks` takes the tasks of an announce made to learn a tracker's key
    (edge/announcer.py); only a ticket no pinned key checks makes one, so a dead tracker never
    slows the uploads of the others."""
    if not ticket:
        raise ApiError(401, "missing_ticket", "send the ticket from the tracker's placement in the field 'ticket'")
    payload, key = signer(ticket, node.tracker_keys())
    if payload is None and any(tracker.pinned() is None for tracker in node.trackers):
        payload, key = signer(ticket, learn_keys(node, on_tasks))
    if payload is None:
        raise ApiError(401, "invalid_ticket", f"the ticket is not signed by any of this edge's trackers ({key})")
    payload["tracker"] = key  # where it is registered (edge/jobs.py)
    if payload.get("node") != node.id:
        raise ApiError(403, "wrong_node", "the ticket is for another edge; upload to the placement's upload_url")
    if payload["expires"] < (time.time() if now is None else now):
        raise ApiError(401, "ticket_expired", "the ticket has expired; ask the tracker for a new placement")
    size = payload.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0 or payload.get("upload") in (None, ""):
        raise ApiError(401, "invalid_ticket", "the ticket has no upload id or size")
    return payload
