"""The node ledger's tables: `Node` (who is online, how full) and `Copy` (which node holds which
video). Soft state: each announce replaces it, so losing it costs one announce interval.
"""
import math
import random
import uuid

from peewee import BigIntegerField, BooleanField, CharField, CompositeKey, DoubleField, ForeignKeyField, Value, fn

from ..catalog.models import Upload, Video
from ..db import BaseModel, chunks, write_transaction
from ..refusals import Conflict, Forbidden, Invalid, NoSpace, NotFound


class Node(BaseModel):
    id = CharField(primary_key=True, max_length=64)  # Ed25519 public key, hex
    url = CharField(max_length=2048)
    capacity = BigIntegerField(default=0)
    used = BigIntegerField(default=0)
    last_seen = DoubleField(default=0, index=True)  # our clock, at its last accepted announce
    # The node's own clock: a signed document not newer than the last one accepted is a replay.
    # Announces and registrations keep separate marks, as an edge may send both in one instant.
    last_timestamp = DoubleField(default=0)
    last_registration = DoubleField(default=0)
    stopped = BooleanField(default=False)

    @classmethod
    def is_live(cls, now, ttl):
        return (cls.last_seen >= now - ttl) & (cls.stopped == False)  # noqa: E712 (SQL, not Python)

    @classmethod
    def free_space(cls, now):
        """capacity − used − the bytes of its pending, unexpired reservations (an SQL expression)."""
        pending = (Upload.node == cls.id) & (Upload.done == False) & (Upload.expires > now)  # noqa: E712
        reserved = Upload.select(fn.COALESCE(fn.SUM(Upload.size), 0)).where(pending)
        return cls.capacity - cls.used - reserved

    @classmethod
    def live_count(cls, now, ttl):
        return cls.select().where(cls.is_live(now, ttl)).count()

    @classmethod
    def accept_announce(cls, payload, now):
        """Record a verified announce; refuse one not newer than the last (a replay)."""
        with write_transaction():
            node = cls.get_or_none(cls.id == payload["node"])
            is_new = node is None
            node = node or cls(id=payload["node"])
            refuse_replay(payload["timestamp"], node.last_timestamp)
            node.url, node.capacity, node.used = payload["url"], payload["capacity"], payload["used"]
            node.last_seen, node.last_timestamp = now, payload["timestamp"]
            node.stopped = payload.get("event") == "stopped"
            node.save(force_insert=is_new)
            Copy.replace(node.id, payload["videos"])
        return node

    @classmethod
    def sources(cls, video_ids, now, ttl):
        """{video id: [live nodes holding it, most free space first]}; each node has `.free`."""
        found = {}
        for chunk in chunks(list(video_ids)):
            free = cls.free_space(now)
            query = (cls.select(cls, free.alias("free"), Copy.video.alias("video_id"))
                     .join(Copy, on=(Copy.node == cls.id))
                     .where(Copy.video.in_(chunk) & cls.is_live(now, ttl))
                     .order_by(free.desc(), cls.id)
                     .objects())
            for node in query:
                found.setdefault(node.video_id, []).append(node)
        return found

    @classmethod
    def place(cls, fields, now, node_ttl, ticket_ttl):
        """Pick a live node with room, weighted by free space, and reserve `size` bytes on it.

        Returns (upload, node)."""
        with write_transaction():
            free = cls.free_space(now)
            candidates = list(cls.select(cls, free.alias("free"))
                              .where(cls.is_live(now, node_ttl) & (free >= fields["size"])))
            if not candidates:
                raise NoSpace("no_space", f"no live edge has room for {fields['size']} bytes")
            # PostgreSQL sums BIGINTs as NUMERIC, so `free` may be a Decimal, which random.choices refuses.
            node = random.choices(candidates, weights=[int(c.free) for c in candidates])[0]
            upload = Upload.create(id=uuid.uuid4().hex, node=node.id, expires=math.ceil(now + ticket_ttl), **fields)
        return upload, node

    @classmethod
    def register_video(cls, payload, now):
        """Record a video an edge published from an upload it was given; idempotent."""
        with write_transaction():
            node = cls.get_or_none(cls.id == payload["node"])
            if node is None:
                raise Forbidden("unknown_node", "this node has never announced")
            refuse_replay(payload["timestamp"], node.last_registration)
            node.last_registration = payload["timestamp"]
            upload = Upload.get_or_none(Upload.id == payload["upload"])
            if upload is None:
                raise NotFound("unknown_upload", "no such upload")
            if upload.node != node.id:
                raise Forbidden("wrong_node", "this upload was placed on another node")
            if upload.video not in (None, payload["video_id"]):
                raise Conflict("upload_used", "this upload already produced another video")
            video = Video.get_or_none(Video.id == payload["video_id"]) or Video.create(
                id=payload["video_id"], title=upload.title, description=upload.description,
                creator=upload.creator, duration=payload["duration"], renditions=payload["renditions"],
                poster=payload["poster"], size=payload["size"], created=now)
            Copy.add(node.id, video.id)
            if not upload.done:
                upload.done, upload.video = True, video.id
                upload.save()
                # The reservation ends here; count the bytes as used until the next announce says.
                node.used += payload["size"]
            node.save()
        return video


class Copy(BaseModel):
    node = ForeignKeyField(Node, on_delete="CASCADE")
    video = ForeignKeyField(Video, on_delete="CASCADE", index=True)

    class Meta:
        primary_key = CompositeKey("node", "video")

    @classmethod
    def replace(cls, node_id, video_ids):
        """Make the node's copies exactly the known videos among `video_ids` (others are ignored)."""
        cls.delete().where(cls.node == node_id).execute()
        for chunk in chunks(sorted(set(video_ids))):
            known = Video.select(Value(node_id), Video.id).where(Video.id.in_(chunk))
            cls.insert_from(known, fields=[cls.node, cls.video]).execute()

    @classmethod
    def add(cls, node_id, video_id):
        cls.insert(node=node_id, video=video_id).on_conflict_ignore().execute()


MODELS = [Node, Copy]


def refuse_replay(stamp, last):
    if stamp <= last:
        raise Invalid("replayed", "timestamp is not newer than the last one accepted from this node")
