"""`PATCH /api/v1/videos/<id>` and `DELETE /api/v1/videos/<id>`: a channel edits or deletes one of
its videos, each request a document signed by the channel's key whose payload names the video.

Each document says its `action` ("edit" or "delete", 400 `wrong_action` otherwise): an edit's
payload holds every field a deletion's does, and must not serve as one. Only the owning channel
may (403 `not_owner`; an anonymous video has no owner, so nobody may); a blocked channel may not
(403 `channel_blocked`). Every accepted document is kept as received, in
order (signers.py), and a deletion's also with its removal, so a relayed record can be checked later.
"""
from flask import Blueprint

from .. import clock, fields, ratelimits, signed, signers
from ..catalog import changes
from ..catalog.models import VISIBILITIES, Removal, Video
from ..catalog.views import item
from ..db import write_transaction
from ..refusals import Conflict, Forbidden, Invalid
from .models import Channel

bp = Blueprint("edits", __name__)


@bp.patch("/api/v1/videos/<video_id>")
def edit(video_id):
    body = fields.json_body()
    payload = owner_request(body, video_id, "edit")
    readers = {"title": lambda: fields.text(payload, "title", 1, 200),
               "description": lambda: fields.text(payload, "description", 0, 5000),
               "visibility": lambda: fields.choice(payload, "visibility", VISIBILITIES)}
    wanted = {name: read() for name, read in readers.items() if payload.get(name) is not None}
    if not wanted:
        raise Invalid("nothing_to_change", f"the payload changes none of {', '.join(readers)}")
    with write_transaction():
        video = owned(video_id, payload, signed.as_received(body))
        if video.origin is not None:
            # Its origin signs its record: an edit here would fork it (the transaction is rolled
            # back, the request spends nothing). A deletion travels from any tracker.
            raise Conflict("not_origin", f"this video's record is kept by the tracker at {video.origin_url}: "
                                         "edit it there")
        for name, value in wanted.items():
            setattr(video, name, value)
        video.save()
        changes.publish(video)
    return item(video)


@bp.delete("/api/v1/videos/<video_id>")
def delete(video_id):
    body = fields.json_body()
    payload = owner_request(body, video_id, "delete")
    document = signed.as_received(body)
    with write_transaction():
        removal = Removal.remove(owned(video_id, payload, document), "deleted", "", clock.now(), document)
        changes.removed(removal)
    return removal.as_item()


def owner_request(body, video_id, action):
    """The verified payload of a channel's `action` ("edit", "delete") on the video at this URL
    (counted against TRACKER_RATE_CHANNELS first, as a forged one costs us a signature check)."""
    ratelimits.take("channels")
    payload = signed.verified_payload(body, signer="channel", action=action)
    if payload.get("video_id") != video_id:
        raise fields.invalid("video_id", "must be the id of the video in the URL")
    return payload


def owned(video_id, payload, document):
    """The video, once the request's channel proves to be its owner, not blocked, and the request
    newer than the channel's last (inside the write transaction, so a refusal spends nothing); the
    request's `document` is kept with the video's others (signers.py)."""
    video = Video.known(video_id)
    if video.channel != payload["channel"]:
        raise Forbidden("not_owner", "this video belongs to another channel" if video.channel
                        else "an anonymous video has no owner who may change it")
    Channel.usable(video.channel, clock.now())
    signers.advance(video.channel, payload["timestamp"], document, subject=video.id)
    return video
