"""The catalog's tables: `Video` (what this tracker lists), `Upload` (placements, with the bytes
they reserve until done or expired) and `Removal` (videos deleted by their channel or taken down by
the operator, refused for good). Durable state, the ledger this tracker is trusted with; the nodes
that hold the videos are soft state (nodes/models.py).

A channel's video keeps its channel's signed placement exactly as received (its edits are kept in
order by signers.py), so that whoever is handed the record later can check it against the
channel's key (README.md, channels).
"""
import math
from datetime import datetime, timezone

from peewee import BigIntegerField, BooleanField, CharField, DoubleField, FloatField, TextField

from protocol.ids import is_video_id

from ..db import BaseModel, JSONField, chunks, database
from ..refusals import Gone, Invalid, NoSpace, NotFound, TooMany
from .search import TOTAL_CAP, Matching

VISIBILITIES = ("public", "unlisted")  # unlisted: plays by id, never listed nor found by search


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
    channel = CharField(max_length=64, null=True, index=True)  # its owner's public key; None: anonymous
    visibility = CharField(max_length=16, default="public")
    document = JSONField(null=True)  # the channel's signed placement, as received (its edits: signers.py)
    # The tracker that registered it and signs its changes (catalog/changes.py), with its URL;
    # null: this tracker. A video learnt from a peer's change feed names its origin here.
    origin = CharField(max_length=64, null=True, index=True)
    origin_url = CharField(max_length=2048, null=True)

    @classmethod
    def search(cls, q, page, per_page, channel=None):
        """One page of public videos newest first (of `channel` only, if given), every word of `q`
        matching the title, description or creator; and how many match, counted up to TOTAL_CAP.

        The first TOTAL_CAP + 1 matches are taken in whatever order the database finds them fastest
        (from the search index): when that is all of them, they are counted and sorted apart (or
        PostgreSQL walks the date index instead, computing every video's words). A search matching
        more is paged by the database: on SQLite in the index's order (search.py), since sorting
        them all is what took seconds; on PostgreSQL by date, walking its index, which finds a page
        of so many matches at once. Browsing (no `q`) walks the date index too."""
        found, p = Matching(q), database.param
        where = f"video.visibility = 'public'{f' AND video.channel = {p}' if channel is not None else ''}"
        params = ([channel] if channel is not None else []) + found.params
        matches = f"FROM {found.source} WHERE {where}{found.condition} LIMIT {TOTAL_CAP + 1}"
        total = database.execute_sql(f"SELECT COUNT(*) FROM (SELECT 1 {matches}) AS matches", params).fetchone()[0]
        if total <= TOTAL_CAP and not found.blank:
            sql = f"SELECT * FROM (SELECT video.* {matches}) AS matches ORDER BY created DESC, id"
        else:
            order = found.index_order if total > TOTAL_CAP and found.index_order else "video.created DESC, video.id"
            sql = f"SELECT video.* FROM {found.source} WHERE {where}{found.condition} ORDER BY {order}"
        page_sql = f"{sql} LIMIT {p} OFFSET {p}"
        return list(cls.raw(page_sql, *params, per_page, (page - 1) * per_page)), min(total, TOTAL_CAP)

    @classmethod
    def of_channel(cls, channel, page, per_page):
        """One page of all `channel`'s videos here, public and unlisted, newest first, and how many
        there are: its owner's listing (channels/views.py), never a public one. Deleted and taken-down
        videos have no row (Removal)."""
        mine = cls.select().where(cls.channel == channel)
        return list(mine.order_by(cls.created.desc(), cls.id).paginate(page, per_page)), mine.count()

    def created_iso(self):
        return datetime.fromtimestamp(self.created, timezone.utc).isoformat(timespec="seconds") \
            .replace("+00:00", "Z")

    def as_item(self, base_url, home):
        """The public JSON of a video; `base_url` is a live edge holding it, or None; `home` is this
        tracker's (id, public URL), the origin of the videos registered here."""
        origin, origin_url = (self.origin, self.origin_url) if self.origin else home
        return {
            "id": self.id, "title": self.title, "description": self.description,
            "creator": self.creator, "channel": self.channel, "visibility": self.visibility,
            "duration": self.duration, "created": self.created_iso(),
            "renditions": self.renditions, "size": self.size, "origin": origin, "origin_url": origin_url,
            "poster_url": f"{base_url}/videos/{self.id}/{self.poster}" if base_url and self.poster else None,
        }

    @classmethod
    def known(cls, video_id):
        """The video with this id, or a refusal saying why there is none."""
        check_id(video_id)
        video = cls.get_or_none(cls.id == video_id)
        if video is None:
            unknown(video_id)
        return video

    @classmethod
    def known_origin(cls, video_id):
        """What `known` checks, for a sources lookup, which needs no more than the video's origin (None:
        registered here): one statement written once, since peewee building a whole row's query was
        most of a lookup at a million videos (README.md, "At network scale")."""
        check_id(video_id)
        row = database.execute_sql(f"SELECT origin FROM video WHERE id = {database.param}", [video_id]).fetchone()
        if row is None:
            unknown(video_id)
        return row[0]


def check_id(video_id):
    if not is_video_id(video_id):
        raise Invalid("invalid_video_id", "a video id is 40 lowercase hex characters")


def unknown(video_id):
    Removal.refuse(video_id)
    raise NotFound("unknown_video", "this tracker knows no video with that id")


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
    # A channel's placement: the video it becomes belongs to the channel (see Video).
    channel = CharField(max_length=64, null=True)
    visibility = CharField(max_length=16, default="public")
    document = JSONField(null=True)

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


class Removal(BaseModel):
    """A video deleted by its channel or taken down by the operator: gone from the catalog at once,
    its edges told to delete their copies (nodes/edge_announce.py), and its id refused for good."""
    video = CharField(primary_key=True, max_length=40)
    kind = CharField(max_length=16)  # "deleted" (by its channel) or "takedown" (by the operator)
    reason = TextField(default="")
    at = DoubleField()
    channel = CharField(max_length=64, null=True)
    document = JSONField(null=True)  # a deletion: the channel's signed request, as received

    @classmethod
    def remove(cls, video, kind, reason, now, document=None):
        """Record the removal and take the video out of the catalog; its copies go with it (a foreign
        key's cascade). Call it inside a write transaction."""
        removal = cls.create(video=video.id, kind=kind, reason=reason, at=now, channel=video.channel,
                             document=document)
        video.delete_instance()
        return removal

    @classmethod
    def refuse(cls, video_id):
        """Raise Gone if the video was removed."""
        removal = cls.get_or_none(cls.video == video_id)
        if removal is not None:
            raise Gone("video_removed", removal.explained())

    def explained(self):
        why = "deleted by its channel" if self.kind == "deleted" else "taken down by this tracker's operator"
        return f"this video was {why}" + (f": {self.reason}" if self.reason else "")

    def as_item(self):
        return {"video_id": self.video, "removed": self.kind, "reason": self.reason, "at": self.at}

    @classmethod
    def among(cls, video_ids):
        """Removals of any of `video_ids` (an edge's announced copies)."""
        found = []
        for chunk in chunks(sorted(set(video_ids))):
            found += list(cls.select().where(cls.video.in_(chunk)))
        return found


MODELS = [Video, Upload, Removal]
