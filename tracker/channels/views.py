"""`POST /api/v1/channels` (signed by the channel: its name and description),
`GET /api/v1/channels/<id>`: the channel, its ledger account and its public videos, and
`POST /api/v1/channels/<id>/videos`: all its videos, unlisted ones too, for its key's holder only."""
from flask import Blueprint

from .. import clock, fields, ratelimits, signed, signers
from ..catalog import changes
from ..catalog.models import Upload, Video
from ..catalog.views import MAX_PAGE, PER_PAGE, listing, page_number, paged
from ..db import write_transaction
from ..errors import ApiError
from ..refusals import Forbidden
from .models import Channel

bp = Blueprint("channels", __name__)


@bp.post("/api/v1/channels")
def update():
    ratelimits.take("channels")
    body = fields.json_body()
    payload = signed.verified_payload(body, signer="channel", action="channel")
    name, description = fields.text(payload, "name", 0, 100, default=""), \
        fields.text(payload, "description", 0, 5000, default="")
    now = clock.now()
    with write_transaction():
        channel = Channel.usable(payload["channel"], now)
        document = signed.as_received(body)
        signers.advance(channel.id, payload["timestamp"], document, subject=channel.id)
        created = channel.document is None
        channel.name, channel.description, channel.updated = name, description, now
        channel.document = document
        channel.save()
        # Older clients show `creator`: it follows the channel's name, also for videos still being made.
        Video.update(creator=channel.display_name()).where(Video.channel == channel.id).execute()
        Upload.update(creator=channel.display_name()).where(Upload.channel == channel.id).execute()
        for video in Video.select().where((Video.channel == channel.id) & Video.origin.is_null()):
            changes.publish(video)  # the new creator reaches the trackers that follow this one
    return channel.as_item(), 201 if created else 200


@bp.get("/api/v1/channels/<channel_id>")
def show(channel_id):
    fields.node_id({"channel": channel_id}, "channel")
    page = page_number()
    channel = Channel.get_or_none(Channel.id == channel_id) or Channel.relayed(channel_id)
    if channel is None:
        raise ApiError(404, "unknown_channel", "this tracker knows no channel with that key")
    return {**channel.as_item(), **listing("", page, channel=channel.id)}


@bp.post("/api/v1/channels/<channel_id>/videos")
def owned_videos(channel_id):
    """One page of every video of the channel, public and unlisted, newest first. It names unlisted
    ids, which are secret to whoever was not given them: only a fresh document of action "list"
    signed by this very channel sees it (another key's is 403 not_owner). Being a read, it spends no
    timestamp: a listing in flight never makes the owner's edit or upload signed just before it
    "replayed" (two devices, or a page still loading its list), and sent again within the freshness
    window it only lists again."""
    fields.node_id({"channel": channel_id}, "channel")
    ratelimits.take("channels")  # before the signature check, which a forgery costs us
    payload = signed.verified_payload(fields.json_body(), signer="channel", action="list")
    if payload["channel"] != channel_id:
        raise Forbidden("not_owner", "only the channel's own key may list its videos")
    page = fields.integer(payload, "page", 1, MAX_PAGE)
    videos, total = Video.of_channel(channel_id, page, PER_PAGE)
    return paged(videos, page, total)
