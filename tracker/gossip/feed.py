"""`GET /api/v1/catalog/changes?since=<cursor>&limit=<n>`: this tracker's catalog as a change feed
(catalog/changes.py), for peer trackers to follow. The cursor is opaque to followers: what `next`
said, or nothing to start from the beginning. A cursor past the newest change was not given by this
feed as it now is (its database was replaced): the answer starts from the beginning again, which
costs the follower a re-read of what it holds (skipped as not newer), never a change missed after it."""
from flask import Blueprint, request

from ..catalog.changes import Change
from ..errors import ApiError

bp = Blueprint("gossip", __name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_CURSOR = 18  # digits: a sequence number below 2**63


@bp.get("/api/v1/catalog/changes")
def changes_since():
    cursor = read_cursor(request.args.get("since", ""))
    limit = read_limit(request.args.get("limit"))
    changes, after = Change.since(cursor, limit)
    if not changes and cursor > Change.newest():
        # Past anything this feed gave (its database was replaced): the follower starts over.
        changes, after = Change.since(0, limit)
    return {"changes": changes, "next": str(after)}


def read_cursor(text):
    if text == "":
        return 0
    if not (text.isascii() and text.isdecimal() and len(text) <= MAX_CURSOR):
        raise ApiError(400, "invalid_cursor", "since must be a cursor this feed gave as next, or absent")
    return int(text)


def read_limit(text):
    if text is None:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdecimal() and len(text) <= 4) or not 1 <= int(text) <= MAX_LIMIT:
        raise ApiError(400, "invalid_limit", f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(text)
