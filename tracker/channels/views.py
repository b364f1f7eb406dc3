"""`POST /api/v1/channels` (signed by the channel: its name and description) and
`GET /api/v1/channels/<id>`: the channel, its ledger account and its public videos."""
from flask import Blueprint

from .. import clock, fields, ratelimits, signed, signers
from ..catalog import changes
from ..catalog.models import Upload, Video
from ..catalog.views import listing, page_number
from ..db import write_transaction
from ..errors import ApiError
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
