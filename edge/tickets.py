"""Checking an upload ticket: signed by our tracker, for this node, unexpired, for a size."""
import time

from protocol.errors import BadSignature
from protocol.tickets import decode_ticket

from .announcer import announce
from .errors import ApiError
from .upstream import TrackerError


def tracker_key(node, on_tasks=None):
    """The tracker's public key; announce first if this edge has not heard from it yet."""
    key = node.tracker_key()
    if key is None:
        try:
            announce(node, on_tasks=on_tasks)
        except TrackerError as exc:
            raise ApiError(503, "tracker_unreachable",
                           f"this edge cannot check tickets before reaching its tracker: {exc}") from exc
        key = node.tracker_key()
    if key is None:
        raise ApiError(503, "tracker_unknown", "the tracker did not say its key; try again shortly")
    return key


def check_ticket(node, ticket, now=None, on_tasks=None):
    """Return the ticket's payload, or raise ApiError with the reason it is refused. `on_tasks`
    takes the tasks of an announce made to learn the tracker's key (edge/announcer.py)."""
    if not ticket:
        raise ApiError(401, "missing_ticket", "send the ticket from the tracker's placement in the field 'ticket'")
    try:
        # now=0: check only the signature here, so that expiry gets an answer of its own below.
        payload = decode_ticket(ticket, tracker_key(node, on_tasks), now=0)
    except BadSignature as exc:
        raise ApiError(401, "invalid_ticket", f"the ticket is not signed by this edge's tracker ({exc})") from exc
    if payload.get("node") != node.id:
        raise ApiError(403, "wrong_node", "the ticket is for another edge; upload to the placement's upload_url")
    if payload["expires"] < (time.time() if now is None else now):
        raise ApiError(401, "ticket_expired", "the ticket has expired; ask the tracker for a new placement")
    size = payload.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0 or payload.get("upload") in (None, ""):
        raise ApiError(401, "invalid_ticket", "the ticket has no upload id or size")
    return payload
