"""Keeping every video at TRACKER_REPLICAS audited live copies, and hand-overs (README.md,
architecture: leaving a video).

Work for edges travels in their announce answers (`tasks`):
`{"action": "replicate", "video_id", "sources": [edge URLs], "size": bytes}` to a live node with
room that lacks a video short of copies, and `{"action": "delete", "video_id"}` to a node that asked
to drop a video, once TRACKER_REPLICAS audited copies live on other nodes that are not dropping it
too. Only audited copies count (nodes/audits.py): announcing a copy one does not hold can neither
stop a replication nor let the last real holder delete. A replicate task handed out is not handed
out again (to anyone) until TRACKER_REPLICATION_TIMEOUT has passed without the copy being announced.
"""
from flask import Blueprint
from peewee import JOIN, CharField, CompositeKey, DoubleField, fn

from protocol.ids import is_video_id

from .. import fields, signed
from ..catalog.models import Video
from ..db import BaseModel, write_transaction
from ..refusals import Conflict, Forbidden
from .models import Copy, Node, refuse_replay

bp = Blueprint("replication", __name__)

MAX_TASKS = 4  # replicate tasks per answer: an edge pulls a few videos at a time
CANDIDATES = 200  # short videos looked at per announce, fewest copies first


class Task(BaseModel):
    node = CharField(max_length=64)
    video = CharField(max_length=40, index=True)
    handed = DoubleField()  # when it was last handed out

    class Meta:
        primary_key = CompositeKey("node", "video")
        table_name = "replication_tasks"


class Handover(BaseModel):
    node = CharField(max_length=64)
    video = CharField(max_length=40, index=True)
    # The node's own clock, signed, of its latest drop request: an older or equal one is a replay.
    requested = DoubleField()
    # Once the node stops announcing the video; kept so it is not asked to copy it back.
    finished = DoubleField(null=True)

    class Meta:
        primary_key = CompositeKey("node", "video")
        table_name = "replication_handovers"


MODELS = [Task, Handover]


@bp.post("/api/v1/nodes/drop")
def drop():
    """A node asks to hand a video over (signed like an announce: {node, timestamp, video_id})."""
    payload = signed.verified_payload(fields.json_body())
    video_id = payload.get("video_id")
    if not is_video_id(video_id):
        raise fields.invalid("video_id", "must be 40 lowercase hex characters")
    with write_transaction():
        if Node.get_or_none(Node.id == payload["node"]) is None:
            raise Forbidden("unknown_node", "this node has never announced")
        if not Copy.select().where((Copy.node == payload["node"]) & (Copy.video == video_id)).exists():
            raise Conflict("not_held", "this node has not announced a copy of that video")
        earlier = Handover.get_or_none((Handover.node == payload["node"]) & (Handover.video == video_id))
        if earlier is not None:
            refuse_replay(payload["timestamp"], earlier.requested)
        Handover.insert(node=payload["node"], video=video_id, requested=payload["timestamp"]).on_conflict(
            conflict_target=[Handover.node, Handover.video],
            update={Handover.finished: None, Handover.requested: payload["timestamp"]}).execute()
    return {"state": "handing_over", "video_id": video_id}, 202


def tasks_for(node, now, config):
    """The tasks for a node that has just announced (its copies are already recorded)."""
    if node.stopped:
        return []
    with write_transaction():
        held = Copy.select(Copy.video).where(Copy.node == node.id)
        # A task is done once its copy passed its audit; until then it still counts as pending, so
        # the copy is not handed to yet another node in the second before the auditor gets to it.
        audited = held.where(Copy.audited.is_null(False))
        Task.delete().where((Task.node == node.id) & Task.video.in_(audited)).execute()
        mine = Handover.node == node.id
        # A hand-over ends once the node no longer announces the video (it deleted it); if it
        # announces it again later (uploaded anew), its copy counts like any other.
        Handover.update(finished=now).where(mine & Handover.finished.is_null() & Handover.video.not_in(held)).execute()
        Handover.delete().where(mine & Handover.finished.is_null(False) & Handover.video.in_(held)).execute()
        return deletions(node, now, config) + replications(node, now, config)


def deletions(node, now, config):
    """Delete permissions, only once the target number of audited copies live on other nodes."""
    tasks = []
    for handover in Handover.select().where((Handover.node == node.id) & Handover.finished.is_null()):
        keepers = (live_holders(handover.video, now, config["TRACKER_NODE_TTL"])
                   .where(Copy.node != node.id).count())
        if keepers >= config["TRACKER_REPLICAS"]:
            tasks.append({"action": "delete", "video_id": handover.video})
    return tasks


def replications(node, now, config):
    ttl, fresh = config["TRACKER_NODE_TTL"], now - config["TRACKER_REPLICATION_TIMEOUT"]
    # Pending: handed out recently, and its copy not audited yet (an audited one counts as a copy).
    done = Copy.select().where((Copy.node == Task.node) & (Copy.video == Task.video) & Copy.audited.is_null(False))
    pending = (Task.select(Task.video, fn.COUNT(Task.node).alias("n"))
               .where((Task.handed > fresh) & ~fn.EXISTS(done)).group_by(Task.video))
    pending_sizes = (Task.select(fn.COALESCE(fn.SUM(Video.size), 0)).join(Video, on=(Video.id == Task.video))
                     .where((Task.node == node.id) & (Task.handed > fresh))).scalar()
    room = Node.select(Node.free_space(now)).where(Node.id == node.id).scalar() - pending_sizes
    held = {v for (v,) in Copy.select(Copy.video).where(Copy.node == node.id).tuples()}
    counts = dict(pending.tuples())
    mine = {v for (v,) in Task.select(Task.video).where((Task.node == node.id) & (Task.handed > fresh)).tuples()}
    mine |= {v for (v,) in Handover.select(Handover.video).where(Handover.node == node.id).tuples()}
    tasks = []
    for video_id, size, copies in short_videos(now, ttl, config["TRACKER_REPLICAS"]):
        if len(tasks) >= MAX_TASKS:
            break
        if video_id in held or video_id in mine or size > room \
                or copies + counts.get(video_id, 0) >= config["TRACKER_REPLICAS"]:
            continue
        sources = [n.url for n in Node.sources([video_id], now, ttl).get(video_id, []) if n.id != node.id]
        if not sources:
            continue
        Task.insert(node=node.id, video=video_id, handed=now).on_conflict(
            conflict_target=[Task.node, Task.video], update={Task.handed: now}).execute()
        room -= size
        # `size`: what the edge reserves, and the most it may accept (a bigger manifest is a lie).
        tasks.append({"action": "replicate", "video_id": video_id, "sources": sources, "size": size})
    return tasks


def short_videos(now, ttl, replicas):
    """(id, size, audited live copies not being dropped) of videos below `replicas`, fewest first."""
    keeping = Node.is_live(now, ttl) & Copy.audited.is_null(False) & ~fn.EXISTS(
        Handover.select().where((Handover.node == Copy.node) & (Handover.video == Copy.video)))
    copies = fn.COUNT(Node.id)
    query = (Video.select(Video.id, Video.size, copies)
             .join(Copy, JOIN.LEFT_OUTER, on=(Copy.video == Video.id))
             .join(Node, JOIN.LEFT_OUTER, on=((Node.id == Copy.node) & keeping))
             .group_by(Video.id, Video.size).having(copies < replicas)
             .order_by(copies, Video.created).limit(CANDIDATES))
    return list(query.tuples())


def live_holders(video_id, now, ttl):
    """Audited copies of a video on live nodes that are not themselves handing it over."""
    dropping = Handover.select().where((Handover.node == Copy.node) & (Handover.video == video_id))
    return (Copy.select().join(Node, on=(Node.id == Copy.node))
            .where((Copy.video == video_id) & Copy.audited.is_null(False) & Node.is_live(now, ttl)
                   & ~fn.EXISTS(dropping)))
