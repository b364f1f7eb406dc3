"""The catalog's tables: `Video` (what this tracker lists) and `Upload` (placements, with the bytes
they reserve until done or expired). Durable state, the ledger this tracker is trusted with; the
nodes that hold the videos are soft state (nodes/models.py).
"""
import math
from datetime import datetime, timezone

from peewee import BigIntegerField, BooleanField, CharField, DoubleField, FloatField, TextField, fn

from protocol.ids import is_video_id

from ..db import BaseModel, JSONField
from ..refusals import Invalid, NoSpace, NotFound, TooMany
from .search import matches


class Video(BaseModel):
    id = CharField(primary_key=True, max_length=40)  # SHA-256 of the manifest, first 20 bytes, hex
    title = CharField(max_length=200)
    description = TextField(default="")
    creator = CharField(max_length=100)
    duration = FloatField()
    renditions = JSONField()
    poster = CharField(null=True)  # a file name inside the package
    size = BigIntegerField()
    # Unix seconds: DOUBLE, since PostgreSQL stores a FloatField as a 24-bit-mantissa REAL.
    created = DoubleField(index=True)
    # "unlisted": found by its id (a link), never listed by search or browse.
    visibility = CharField(max_length=16, default="public")
    # The tracker that registered it and signs its changes (catalog/changes.py), with its URL;
    # null: this tracker. A video learnt from a peer's change feed names its origin here.
    origin = CharField(max_length=64, null=True, index=True)
    origin_url = CharField(max_length=2048, null=True)

    @classmethod
    def search(cls, q, page, per_page):
        """Newest first; every word of `q` must match the title, description or creator (search.py)."""
        query = cls.select().where(cls.visibility == "public")
        if (condition := matches(cls, q)) is not None:
            query = query.where(condition)
        return list(query.order_by(cls.created.desc(), cls.id).paginate(page, per_page)), query.count()

    def created_iso(self):
        return datetime.fromtimestamp(self.created, timezone.utc).isoformat(timespec="seconds") \
            .replace("+00:00", "Z")

    def as_item(self, base_url, home):
        """The public JSON of a video; `base_url` is a live edge holding it, or None; `home` is this
        tracker's (id, public URL), the origin of the videos registered here."""
        origin, origin_url = (self.origin, self.origin_url) if self.origin else home
        return {
            "id": self.id, "title": self.title, "description": self.description,
            "creator": self.creator, "duration": self.duration, "created": self.created_iso(),
            "renditions": self.renditions, "size": self.size, "visibility": self.visibility,
            "origin": origin, "origin_url": origin_url,
            "poster_url": f"{base_url}/videos/{self.id}/{self.poster}" if base_url and self.poster else None,
        }

    @classmethod
    def known(cls, video_id):
        """The video with this id, or a refusal saying why there is none."""
        if not is_video_id(video_id):
            raise Invalid("invalid_video_id", "a video id is 40 lowercase hex characters")
        video = cls.get_or_none(cls.id == video_id)
        if video is None:
            raise NotFound("unknown_video", "this tracker knows no video with that id")
        return video


class Upload(BaseModel):
    id = CharField(primary_key=True, max_length=32)
    # A plain id, not a foreign key: nodes are soft state and may leave the database.
    node = CharField(max_length=64, index=True)
    title = CharField(max_length=200)
    description = TextField(default="")
    creator = CharField(max_length=100)
    size = BigIntegerField()
    expires = DoubleField(index=True)
    done = BooleanField(default=False)
    video = CharField(max_length=40, null=True)  # what it became, once registered
    # Who placed it (runtime/clients.py's key: an IPv4 address or an IPv6 /64), for the reserved-bytes limit.
    client = CharField(max_length=64, null=True, index=True)

    @classmethod
    def pending_for(cls, client, now):
        return (cls.client == client) & (cls.done == False) & (cls.expires > now)  # noqa: E712

    @classmethod
    def check_reserved(cls, client, size, now, limit, share=0, network_free=0):
        """Refuse a placement of `size` bytes that would take `client` past `limit` bytes reserved in
        its unfinished placements (TRACKER_RATE_RESERVED; 0: no limit; `size` alone is within it, see
        placement.py), or past `share` of `network_free` plus what it holds (TRACKER_RATE_RESERVED_SHARE;
        0: no share bound; a `size` alone over that is a 507). Called inside placement's write
        transaction, so parallel placements cannot both slip under it."""
        pending = list(cls.select(cls.size, cls.expires).where(cls.pending_for(client, now))
                       .order_by(cls.expires).tuples())
        held = sum(reserved for reserved, _ in pending)
        setting = "TRACKER_RATE_RESERVED"
        if share:
            share_limit = int(share * (max(network_free, 0) + held))
            if size > share_limit:
                raise NoSpace("no_space", f"one address may hold at most {share_limit} bytes reserved, "
                                          f"{share:.0%} of this network's free space (TRACKER_RATE_RESERVED_SHARE)")
            if not limit or share_limit < limit:
                limit, setting = share_limit, "TRACKER_RATE_RESERVED_SHARE of the network's free space"
        if not limit or held + size <= limit:
            return
        left = held
        for reserved, expires in pending:  # the earliest time enough of them expire, should none be registered
            left -= reserved
            if left + size <= limit:
                break
        wait = max(math.ceil(expires - now), 1)
        raise TooMany("too_much_reserved", f"your address holds {held} bytes in placements not yet uploaded, at most "
                      f"{limit} with this one ({setting}); finish an upload, or retry in {wait} s "
                      "when one expires", wait)


MODELS = [Video, Upload]
