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
from ..catalog.changes import REMOVED_KINDS
from ..catalog.models import VISIBILITIES
from ..errors import ApiError
from ..nodes.registration import read_renditions
from ..nodes.urls import check_node_url

MAX_DOCUMENTS = 64  # a channel's placement and edits of one video that a record may carry
EDITABLE = ("title", "description", "visibility")  # what a channel's edit may change (channels/edits.py)


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
        deletion = None
        if record["removed"] == "deleted":  # by its channel, whose signed request it carries
            deletion = channel_document(record.get("document"), signer_of(record.get("document")))
            # Its action too: an edit names the video as well, and edits are public in every feed.
            if deletion["payload"].get("action") != "delete" or deletion["payload"].get("video_id") != record["id"]:
                raise fields.invalid("document", "must be the channel's deletion of this video")
        return {**facts, "removed": record["removed"], "document": deletion}
    poster = record.get("poster")
    if poster is not None and not (isinstance(poster, str) and is_file_name(poster)):
        raise fields.invalid("poster", "must be a file name of the package, or null")
    if record.get("visibility") not in VISIBILITIES:
        raise fields.invalid("visibility", f"must be one of {', '.join(VISIBILITIES)}")
    video = {
        **facts, "poster": poster, "visibility": record["visibility"],
        "title": fields.text(record, "title", 1, 200),
        "description": fields.text(record, "description", 0, 5000),
        "creator": fields.text(record, "creator", 1, 100),
        "duration": fields.number(record, "duration"),
        "renditions": read_renditions(record.get("renditions")),
        "size": fields.integer(record, "size"),
        "created": fields.number(record, "created"),
        "channel": None, "documents": [],
    }
    if record.get("channel") is not None:
        video["channel"] = record["channel"]
        video["documents"] = replayed(video, record.get("documents"))
    return video


def channel_document(document, channel):
    """A document the channel signed, verified with its key."""
    if not is_public_key(channel):
        raise fields.invalid("channel", "must be a channel's public key, 64 hex")
    try:
        payload = verify(document, channel)
    except BadSignature:
        raise fields.invalid("documents", "must be documents signed by the channel's key") from None
    if payload.get("channel") != channel:
        raise fields.invalid("documents", "must be signed by the record's channel")
    return {"payload": payload, "signature": document["signature"]}


def signer_of(document):
    payload = document.get("payload") if isinstance(document, dict) else None
    return payload.get("channel") if isinstance(payload, dict) else None


def replayed(video, documents):
    """The channel's documents about the video, checked step by step: its placement (action "upload",
    which cannot name the video, made later) sets the title, description and visibility (public unless it said
    otherwise), each edit (action "edit") after it names the video and changes what it names, in the order the
    channel signed them. The record must say what they add up to, so no tracker, the origin
    included, can retitle a channel's video."""
    if not isinstance(documents, list) or not 1 <= len(documents) <= MAX_DOCUMENTS:
        raise fields.invalid("documents", f"must list the channel's placement and edits, 1 to {MAX_DOCUMENTS}")
    checked = [channel_document(document, video["channel"]) for document in documents]
    placement, edits = checked[0]["payload"], [d["payload"] for d in checked[1:]]
    if placement.get("action") != "upload" or "video_id" in placement:
        raise fields.invalid("documents", "must begin with the channel's placement")
    state = {"title": placement.get("title"), "description": placement.get("description") or "",
             "visibility": placement.get("visibility") or "public"}
    last = placement.get("timestamp")
    for edit in edits:
        if edit.get("action") != "edit" or edit.get("video_id") != video["id"] or not edit.get("timestamp", 0) > last:
            raise fields.invalid("documents", "must follow the placement with this video's edits, in order")
        last = edit["timestamp"]
        state.update({name: edit[name] for name in EDITABLE if edit.get(name) is not None})
    for name, value in state.items():
        if not isinstance(value, str) or value.strip() != video[name]:
            raise fields.invalid(name, "must be what the channel signed")
    return checked
