"""The node ledger's tables: `Node` (who is online, how full, what of it is proven), `Copy` (which
node holds which video, and when the tracker last audited that) and `Custody` (when a node last
passed an audit of a video, kept after the copy goes, for crediting donations). Nodes and copies
are soft state: each announce replaces them, so losing them costs one announce interval.

A node's claims are believed only as far as they were checked (README.md, trust model): its URL
once proven (nodes/proofs.py), its copies once audited (nodes/audits.py), its capacity as far as
it has earned it by holding audited copies.
"""
import math
import random
import uuid

from peewee import (BigIntegerField, BooleanField, CharField, CompositeKey, DoubleField, ForeignKeyField,
                    IntegerField, Value, fn)

from ..catalog import changes
from ..catalog.models import Removal, Upload, Video
from ..channels.models import Channel
from ..db import BaseModel, chunks, write_transaction
from ..refusals import Conflict, Forbidden, Invalid, NoSpace, NotFound
from .reach import WEBRTC


class Node(BaseModel):
    id = CharField(primary_key=True, max_length=64)  # Ed25519 public key, hex
    url = CharField(max_length=2048)
    # The URL whose server last proved it holds this node's key, and when: a node is listed only
    # while its announced URL is the proven one.
    proven_url = CharField(max_length=2048, null=True, index=True)
    proven_at = DoubleField(default=0)
    # How viewers reach it, as that proof found (README.md, "Home edges"): "https" (a certificate the
    # tracker verified), "http", or "webrtc" (nobody could open the URL, but the node proved its key on a
    # live signalling socket). None on rows older than the column: the URL's scheme.
    reach = CharField(max_length=8, null=True)
    declared = BigIntegerField(default=0)  # the capacity it claims
    capacity = BigIntegerField(default=0)  # what placement may use: the claim, as far as it is earned
    used = BigIntegerField(default=0)
    audit_failures = IntegerField(default=0)  # audits it failed or left unanswered; ranks it down
    last_seen = DoubleField(default=0, index=True)  # our clock, at its last accepted announce
    # The node's own clock: a signed document not newer than the last one accepted is a replay.
    # Announces and registrations keep separate marks, as an edge may send both in one instant.
    last_timestamp = DoubleField(default=0)
    last_registration = DoubleField(default=0)
    stopped = BooleanField(default=False)

    @classmethod
    def is_live(cls, now, ttl):
        """Announced within the TTL, not stopped, and at a proven URL (an SQL expression)."""
        return (cls.last_seen >= now - ttl) & (cls.stopped == False) & (cls.proven_url == cls.url)  # noqa: E712

    @classmethod
    def free_space(cls, now):
        """capacity − used − the bytes of its pending, unexpired reservations (an SQL expression)."""
        pending = (Upload.node == cls.id) & (Upload.done == False) & (Upload.expires > now)  # noqa: E712
        reserved = Upload.select(fn.COALESCE(fn.SUM(Upload.size), 0)).where(pending)
        return cls.capacity - cls.used - reserved

    @classmethod
    def served_over_http(cls):
        """Reachable over HTTP (an SQL expression): what uploads and replicas must be sent to or pulled from."""
        return cls.reach.is_null() | (cls.reach != WEBRTC)

    @classmethod
    def proven_by_socket(cls, node_id, url, now):
        """A known node whose URL no one could open but whose socket proved it: listed as `webrtc` at once,
        without waiting for its next announce."""
        cls.update(proven_url=url, proven_at=now, reach=WEBRTC).where(
            (cls.id == node_id) & (cls.url == url) & ((cls.proven_url.is_null()) | (cls.proven_url != url))).execute()

    @classmethod
    def live_count(cls, now, ttl):
        return cls.select().where(cls.is_live(now, ttl)).count()

    @classmethod
    def url_holder(cls, url, now, ttl):
        """The live node whose proven URL is `url`, or None."""
        return cls.get_or_none((cls.proven_url == url) & cls.is_live(now, ttl))

    @classmethod
    def accept_announce(cls, payload, now, config, proven_at=None, reach=None):
        """Record a verified announce; refuse one not newer than the last (a replay). `proven_at` is
        set when the URL was proven for this announce, and `reach` how."""
        with write_transaction():
            node = cls.get_or_none(cls.id == payload["node"])
            is_new = node is None
            node = node or cls(id=payload["node"])
            refuse_replay(payload["timestamp"], node.last_timestamp)
            if proven_at is not None:
                node.proven_url, node.proven_at, node.reach = payload["url"], proven_at, reach
            holder = cls.url_holder(payload["url"], now, config["TRACKER_NODE_TTL"])
            if holder is not None and holder.id != node.id:
                raise Conflict("url_taken", "another live node has proven this URL")
            node.url, node.declared, node.used = payload["url"], payload["capacity"], payload["used"]
            node.last_seen, node.last_timestamp = now, payload["timestamp"]
            node.stopped = payload.get("event") == "stopped"
            node.save(force_insert=is_new)
            Copy.replace(node.id, payload["videos"])
            node.capacity = node.usable_capacity(payload.get("free"), config["TRACKER_NEW_NODE_CAPACITY"])
            node.save()
        return node

    def usable_capacity(self, free, start):
        """The declared capacity, but no more than a newcomer's allowance plus the bytes of its audited
        copies (capacity is earned), nor more than it holds plus the disk it reports free."""
        audited = (Video.select(fn.COALESCE(fn.SUM(Video.size), 0)).join(Copy, on=(Copy.video == Video.id))
                   .where((Copy.node == self.id) & Copy.audited.is_null(False)).scalar())
        usable = min(self.declared, start + int(audited))
        return usable if free is None else min(usable, self.used + free)

    @classmethod
    def sources(cls, video_ids, now, ttl):
        """{video id: [live nodes holding an audited copy that serve over HTTP, fewest failed audits, then
        most free space first]}; each node has its `id`, `url` and `.free` only: replication's sources."""
        found = {}
        for chunk in chunks(list(video_ids)):
            free = cls.free_space(now)
            query = (cls.select(cls.id, cls.url, free.alias("free"), Copy.video.alias("video_id"))
                     .join(Copy, on=(Copy.node == cls.id))
                     .where(Copy.video.in_(chunk) & Copy.audited.is_null(False) & cls.is_live(now, ttl)
                            & cls.served_over_http())
                     .order_by(cls.audit_failures, free.desc(), cls.id)
                     .objects())
            for node in query:
                found.setdefault(node.video_id, []).append(node)
        return found

    @classmethod
    def place(cls, fields, now, node_ttl, ticket_ttl, reserved_limit=0, reserved_share=0):
        """Pick a live node with room, weighted by free space, and reserve `size` bytes on it, within
        what `fields["client"]` may hold reserved (Upload.check_reserved): at most `reserved_limit`
        bytes, and at most `reserved_share` of what the live nodes had free before its reservations.

        Returns (upload, node)."""
        with write_transaction():
            free = cls.free_space(now)
            network = 0
            if reserved_share:  # what the live nodes have free, for the share one address may hold
                network = int(cls.select(fn.COALESCE(fn.SUM(free), 0)).where(cls.is_live(now, node_ttl)).scalar() or 0)
            Upload.check_reserved(fields.get("client"), fields["size"], now, reserved_limit, reserved_share, network)
            candidates = list(cls.select(cls, free.alias("free"))
                              .where(cls.is_live(now, node_ttl) & cls.served_over_http() & (free >= fields["size"])))
            if not candidates:
                raise NoSpace("no_space", f"no live edge has room for {fields['size']} bytes")
            # Uploads placed on a node that never registered weigh it down: 1/(1 + their number).
            lost = dict(Upload.select(Upload.node, fn.COUNT(Upload.id))
                        .where(Upload.node.in_([c.id for c in candidates]) & (Upload.done == False)  # noqa: E712
                               & (Upload.expires <= now)).group_by(Upload.node).tuples())
            # PostgreSQL sums BIGINTs as NUMERIC, so `free` may be a Decimal, which random.choices refuses.
            weights = [int(c.free) / (1 + lost.get(c.id, 0)) for c in candidates]
            node = random.choices(candidates, weights=weights)[0]
            upload = Upload.create(id=uuid.uuid4().hex, node=node.id, expires=math.ceil(now + ticket_ttl), **fields)
        return upload, node

    @classmethod
    def upload_for(cls, payload):
        """The node and the upload a registration names, or a refusal; changes nothing."""
        node = cls.get_or_none(cls.id == payload["node"])
        if node is None:
            raise Forbidden("unknown_node", "this node has never announced")
        refuse_replay(payload["timestamp"], node.last_registration)
        upload = Upload.get_or_none(Upload.id == payload["upload"])
        if upload is None:
            raise NotFound("unknown_upload", "no such upload")
        if upload.node != node.id:
            raise Forbidden("wrong_node", "this upload was placed on another node")
        if upload.video not in (None, payload["video_id"]):
            raise Conflict("upload_used", "this upload already produced another video")
        Removal.refuse(payload["video_id"])  # a deleted or taken-down id never comes back
        Channel.refuse_blocked(upload.channel)  # placed before its channel was blocked: not listed after
        return node, upload

    @classmethod
    def register_video(cls, payload, package, now):
        """Record a video an edge published from the upload it was given, with the facts of its
        checked and audited manifest (`package`: size, duration, renditions, poster); idempotent."""
        with write_transaction():
            node, upload = cls.upload_for(payload)  # again: a parallel registration may have won
            node.last_registration = payload["timestamp"]
            video = Video.get_or_none(Video.id == payload["video_id"])
            if video is None:
                video = Video.create(id=payload["video_id"], title=upload.title, description=upload.description,
                                     creator=upload.creator, channel=upload.channel, visibility=upload.visibility,
                                     document=upload.document, created=now, **package)
                changes.publish(video)  # to the trackers that follow this one's change feed
            Copy.add(node.id, video.id, audited=now)
            Custody.passed(node.id, video.id, now)
            if not upload.done:
                upload.done, upload.video = True, video.id
                upload.save()
                # The reservation ends here; count the bytes as used until the next announce says.
                node.used += package["size"]
            node.save()
        return video


class Copy(BaseModel):
    node = ForeignKeyField(Node, on_delete="CASCADE")
    video = ForeignKeyField(Video, on_delete="CASCADE", index=True)
    audited = DoubleField(null=True)  # when it last passed an audit; None: not yet, it counts nowhere
    next_audit = DoubleField(default=0, index=True)  # when the auditor should look at it again

    class Meta:
        primary_key = CompositeKey("node", "video")

    @classmethod
    def replace(cls, node_id, video_ids):
        """Make the node's copies exactly the known videos among `video_ids` (others are ignored). A
        copy already recorded keeps its audit; a new one waits for its first."""
        wanted = sorted(set(video_ids))
        have = {v for (v,) in cls.select(cls.video).where(cls.node == node_id).tuples()}
        gone = sorted(have - set(wanted))
        for chunk in chunks(gone):
            cls.delete().where((cls.node == node_id) & cls.video.in_(chunk)).execute()
        for chunk in chunks([v for v in wanted if v not in have]):
            known = Video.select(Value(node_id), Video.id, Value(0)).where(Video.id.in_(chunk))
            cls.insert_from(known, fields=[cls.node, cls.video, cls.next_audit]).execute()

    @classmethod
    def add(cls, node_id, video_id, audited):
        cls.insert(node=node_id, video=video_id, audited=audited, next_audit=audited).on_conflict(
            conflict_target=[cls.node, cls.video], update={cls.audited: audited}).execute()

    @classmethod
    def due(cls, now, ttl, limit):
        """Copies on live nodes whose audit is due, never-audited ones first:
        [(node id, node url, node reach, video id, package size)]."""
        return list(cls.select(cls.node, Node.url, Node.reach, cls.video, Video.size)
                    .join(Node, on=(Node.id == cls.node)).switch(cls)
                    .join(Video, on=(Video.id == cls.video))
                    .where(Node.is_live(now, ttl) & (cls.audited.is_null() | (cls.next_audit <= now)))
                    .order_by(cls.audited.is_null(False), cls.next_audit).limit(limit).tuples())

    @classmethod
    def passed(cls, node_id, video_id, now, next_audit):
        cls.update(audited=now, next_audit=next_audit).where(
            (cls.node == node_id) & (cls.video == video_id)).execute()
        Custody.passed(node_id, video_id, now)

    @classmethod
    def failed(cls, node_id, video_id):
        """Drop a copy that failed its audit and count it against the node."""
        with write_transaction():
            cls.delete().where((cls.node == node_id) & (cls.video == video_id)).execute()
            Node.update(audit_failures=Node.audit_failures + 1).where(Node.id == node_id).execute()


class Custody(BaseModel):
    """When a node last passed an audit of a video: a donation credits the bytes it served only if
    that was recent enough (TRACKER_SERVED_WINDOW), even if it has dropped the copy since."""
    node = CharField(max_length=64)
    video = CharField(max_length=40)
    audited = DoubleField()

    class Meta:
        primary_key = CompositeKey("node", "video")

    @classmethod
    def passed(cls, node_id, video_id, now):
        cls.insert(node=node_id, video=video_id, audited=now).on_conflict(
            conflict_target=[cls.node, cls.video], update={cls.audited: now}).execute()

    @classmethod
    def holders(cls, video_id, node_ids, since):
        """The nodes among `node_ids` that passed an audit of the video at or after `since`."""
        return {n for (n,) in cls.select(cls.node).where(
            (cls.video == video_id) & cls.node.in_(list(node_ids)) & (cls.audited >= since)).tuples()}


MODELS = [Node, Copy, Custody]


def refuse_replay(stamp, last):
    if stamp <= last:
        raise Invalid("replayed", "timestamp is not newer than the last one accepted from this node")
