"""`Channel`: a creator's key, with the name and description it last signed, and whether the
operator blocked it. A channel needs no row to exist (its key is its identity): the row is made by
its first signed request, or by the operator blocking it beforehand; a tracker that learnt its videos
from a peer's feed has none (`relayed`).
"""
from peewee import BooleanField, CharField, DoubleField, TextField

from ..catalog.models import Video
from ..db import BaseModel, JSONField
from ..refusals import Forbidden

SHORT_ID = 12  # hex digits of the key shown where a channel has no name yet


class Channel(BaseModel):
    id = CharField(primary_key=True, max_length=64)  # the Ed25519 public key, hex
    name = CharField(max_length=100, default="")
    description = TextField(default="")
    created = DoubleField()
    updated = DoubleField()
    blocked = BooleanField(default=False)
    document = JSONField(null=True)  # its latest signed update, as received

    @classmethod
    def usable(cls, channel_id, now):
        """The channel's row, made on its first request; refused while the operator blocks it. Call it
        inside the write transaction of what the channel asks for."""
        channel = cls.get_or_none(cls.id == channel_id)
        if channel is None:
            channel = cls.create(id=channel_id, created=now, updated=now)
        if channel.blocked:
            raise blocked()
        return channel

    @classmethod
    def refuse_blocked(cls, channel_id):
        """Refuse what comes of a blocked channel's earlier request (an upload placed before the block,
        registered after it); `channel_id` None (anonymous) passes. Reads only."""
        if channel_id is not None and cls.select().where((cls.id == channel_id) & cls.blocked).exists():
            raise blocked()

    @classmethod
    def relayed(cls, channel_id):
        """A channel known here only by videos learnt from peers' feeds, which make no row: unnamed
        here, as a channel that never named itself (its signed updates stay at the trackers it sent
        them to); None when no video of it is here."""
        if not Video.select().where(Video.channel == channel_id).exists():
            return None
        return cls(id=channel_id)

    def display_name(self):
        """What older clients show as a channel video's `creator`."""
        return self.name or self.id[:SHORT_ID]

    def as_item(self):
        return {"channel": self.id, "name": self.name, "description": self.description,
                "account": f"channel:{self.id}", "blocked": self.blocked}


def blocked():
    return Forbidden("channel_blocked", "this tracker's operator has blocked this channel")


MODELS = [Channel]
