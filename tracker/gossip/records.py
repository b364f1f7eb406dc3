"""What a peer's change must be before this tracker stores it (README.md, "One network"; trust model).

A peer is a server like any other, and so is every tracker before it down a line: a change is
believed only as its origin signed it. The origin's id IS its public key, so the record names the
key that must have signed it; a tracker relaying another's record cannot alter a field without
breaking the signature, nor claim the record for another origin without that origin's key. Then
every field must be what this tracker's own catalog would hold. Anything else is refused whole.
"""
from protocol.errors import BadSignature
from protocol.ids import is_public_key, is_video_id
from protocol.manifest import is_file_name
from protocol.signing import verify

from .. import fields
from ..catalog.changes import REMOVED_KINDS, VISIBILITIES
from ..errors import ApiError
from ..nodes.registration import read_renditions
from ..nodes.urls import check_node_url


class BadChange(Exception):
    """A change that failed its checks: never stored, never relayed."""


def checked(change, allow_private):
    """The record of a peer's change, checked (signature, then fields), or BadChange saying why."""
    if not isinstance(change, dict) or not isinstance(change.get("record"), dict) \
            or not isinstance(change.get("signature"), str):
        raise BadChange('a change is {"record": {...}, "signature": hex}')
    record = change["record"]
    if not is_public_key(record.get("origin")):
        raise BadChange("origin must be the origin tracker's public key, 64 hex")
    try:
        verify({"payload": record, "signature": change["signature"]}, record["origin"])
    except BadSignature:
        raise BadChange(f"the signature does not verify with the origin's key {record['origin']}") from None
    try:
        return read_record(record, allow_private)
    except ApiError as exc:
        raise BadChange(exc.message) from None


def read_record(record, allow_private):
    if not is_video_id(record.get("id")):
        raise fields.invalid("id", "must be a video id, 40 lowercase hex characters")
    facts = {"id": record["id"], "origin": record["origin"], "seq": fields.integer(record, "seq", 1),
             "origin_url": check_node_url(record.get("origin_url"), allow_private)}
    if "removed" in record:
        if record["removed"] not in REMOVED_KINDS:
            raise fields.invalid("removed", f"must be one of {', '.join(REMOVED_KINDS)}")
        return {**facts, "removed": record["removed"]}
    poster = record.get("poster")
    if poster is not None and not (isinstance(poster, str) and is_file_name(poster)):
        raise fields.invalid("poster", "must be a file name of the package, or null")
    channel = record.get("channel")
    if channel is not None and not is_public_key(channel):
        raise fields.invalid("channel", "must be a channel's public key, 64 hex, or null")
    if record.get("visibility") not in VISIBILITIES:
        raise fields.invalid("visibility", f"must be one of {', '.join(VISIBILITIES)}")
    return {
        **facts, "channel": channel, "poster": poster, "visibility": record["visibility"],
        "title": fields.text(record, "title", 1, 200),
        "description": fields.text(record, "description", 0, 5000),
        "creator": fields.text(record, "creator", 1, 100),
        "duration": fields.number(record, "duration"),
        "renditions": read_renditions(record.get("renditions")),
        "size": fields.integer(record, "size"),
        "created": fields.number(record, "created"),
    }
