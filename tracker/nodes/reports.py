"""Failure reports: players tell the tracker which edge sent them bad bytes, an error or nothing.

`POST /api/v1/videos/<id>/reports` with `{"node": id, "reason": "hash_mismatch"|"http_error"|"timeout"}`
→ 202. Anyone may report, so a report only ever moves an edge down the sources list, never out of
it, and what counts is the number of distinct reporters over the last `TRACKER_REPORT_WINDOW`
seconds: one viewer (one address; with IPv6 one /64, as tracker/ratelimits.py counts clients) weighs as
one however often it reports. Each address may send `TRACKER_REPORT_LIMIT` reports a minute (429
with Retry-After beyond), counted in this table, so across every worker, which also bounds its growth.
"""
import hashlib
import math

from flask import Blueprint, current_app
from peewee import CharField, DoubleField, fn

from protocol.ids import is_video_id

from .. import clock, fields, ratelimits
from ..catalog.models import Video
from ..db import BaseModel, write_transaction
from ..errors import ApiError
from ..refusals import TooMany
from .models import Node

bp = Blueprint("reports", __name__)

REASONS = ("hash_mismatch", "http_error", "timeout")
MINUTE = 60


class Report(BaseModel):
    node = CharField(max_length=64)
    video = CharField(max_length=40)
    reason = CharField(max_length=20)
    # A digest of the reporter's address: enough to count distinct reporters, not to store who.
    reporter = CharField(max_length=64, index=True)
    created = DoubleField(index=True)

    class Meta:
        indexes = ((("node", "created"), False),)

    @classmethod
    def add(cls, node, video, reason, reporter, now, window, limit):
        """Store a report, and forget those older than the window; refused past the reporter's rate."""
        with write_transaction():
            recent, oldest = (cls.select(fn.COUNT(cls.id), fn.MIN(cls.created))
                              .where((cls.reporter == reporter) & (cls.created > now - MINUTE)).tuples().get())
            if recent >= limit:
                wait = max(math.ceil(oldest + MINUTE - now), 1)
                raise TooMany("too_many_reports", f"at most {limit} reports a minute from one address "
                              f"(TRACKER_REPORT_LIMIT); retry in {wait} s", wait)
            cls.create(node=node, video=video, reason=reason, reporter=reporter, created=now)
            cls.delete().where(cls.created <= now - max(window, MINUTE)).execute()


MODELS = [Report]

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
# For tracker/openapi.py.
REPORT_PATHS = {"/api/v1/videos/{video_id}/reports": {"post": {
    "summary": "a player reports an edge that sent bad bytes, an HTTP error or nothing; reported edges "
               "go last in the sources",
    "parameters": [{"name": "video_id", "in": "path", "required": True, "schema": fields.VIDEO_ID}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["node", "reason"], "properties": {
            "node": fields.NODE_ID, "reason": {"enum": list(REASONS)}}}}}},
    "responses": {"202": {"description": "counted", "content": {"application/json": {"schema": {
                      "type": "object", "properties": {"accepted": {"const": True}}}}}},
                  "400": {"description": "a field is malformed (it is named)", "content": ERROR},
                  "404": {"description": "no such video, or no such node", "content": ERROR},
                  "default": {"description": "an error", "content": ERROR}}}}}


@bp.post("/api/v1/videos/<video_id>/reports")
def report(video_id):
    if not is_video_id(video_id) or not Video.select().where(Video.id == video_id).exists():
        raise ApiError(404, "unknown_video", "this tracker knows no video with that id")
    body = fields.json_body()
    node = fields.node_id(body)
    reason = body.get("reason")
    if reason not in REASONS:
        raise fields.invalid("reason", "must be one of " + ", ".join(REASONS))
    if not Node.select().where(Node.id == node).exists():
        raise ApiError(404, "unknown_node", "this tracker knows no node with that id")
    config = current_app.config
    reporter = hashlib.sha256((config["TRACKER_ID"] + ratelimits.client()).encode()).hexdigest()
    Report.add(node, video_id, reason, reporter, clock.now(),
               config["TRACKER_REPORT_WINDOW"], config["TRACKER_REPORT_LIMIT"])
    return {"accepted": True}, 202
