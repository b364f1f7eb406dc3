"""The OpenAPI description of channels (README.md, channels): their signed requests, the channel
page's JSON, and the operator's moderation."""
from . import fields
from .catalog.models import VISIBILITIES
from .catalog.search import TOTAL_CAP
from .openapi_base import INTEGER, NUMBER, STRING, answer, json_body, payload, ref, signed

CHANNEL_ID = {"name": "channel_id", "in": "path", "required": True, "schema": fields.NODE_ID}
VIDEO_ID = {"name": "video_id", "in": "path", "required": True, "schema": fields.VIDEO_ID}
VISIBILITY = {"enum": list(VISIBILITIES), "description": "unlisted: plays by id, never listed nor found by search"}
CHANNEL_REFUSALS = {
    "400": "malformed (the field is named), a stale timestamp, a replay, or wrong_action: a document signed "
           "for another endpoint",
    "403": "bad_signature: the signature does not verify with payload.channel's key; channel_blocked: this "
           "tracker's operator blocked the channel"}
OPERATOR_REFUSALS = {"401": "no bearer token sent",
                     "403": "the operator API is off (TRACKER_ADMIN_TOKEN unset) or the token is wrong"}
GONE = "the video was deleted by its channel or taken down by the operator"

CHANNEL = {"type": "object", "required": ["channel", "name", "description", "account", "blocked"], "properties": {
    "channel": STRING, "name": STRING, "description": STRING, "blocked": {"type": "boolean"},
    "account": {**STRING, "description": "the ledger account donations to its videos credit: channel:<id>"}}}
REMOVAL = {"type": "object", "required": ["video_id", "removed", "reason", "at"], "properties": {
    "video_id": STRING, "removed": {"enum": ["deleted", "takedown"]}, "reason": STRING, "at": NUMBER}}
VIDEO_REQUEST = {"video_id": {**fields.VIDEO_ID, "description": "the video in the URL"}}
EDIT = payload({**VIDEO_REQUEST, "title": fields.text_schema(1, 200), "description": fields.text_schema(0, 5000),
                "visibility": VISIBILITY}, required=["video_id"], signer="channel", action="edit")
# Some change, or a 400 nothing_to_change.
EDIT["anyOf"] = [{"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                 for name in ("title", "description", "visibility")]


def signed_placement(max_size):
    """A channel's placement: the video it becomes belongs to the channel."""
    return signed(payload({
        "title": fields.text_schema(1, 200), "size": fields.integer_schema(1, max_size),
        "description": fields.text_schema(0, 5000, nullable=True), "visibility": {**VISIBILITY, "enum": [
            *VISIBILITIES, None]}}, required=["title", "size"], signer="channel", action="upload"), signer="channel")


CHANNEL_VIDEO_OPERATIONS = {
    "patch": {
        "summary": "the owning channel edits its video's title, description or visibility", "parameters": [VIDEO_ID],
        **json_body(signed(EDIT, signer="channel")),
        **answer("the video as it now is", ref("Video"), refusals={
            **CHANNEL_REFUSALS, "403": CHANNEL_REFUSALS["403"] + "; not_owner: another channel's or an anonymous "
                                                                  "video", "404": "no such video", "410": GONE,
            "409": "not_origin: a video learnt from a peer tracker's feed is edited at its origin tracker"})},
    "delete": {
        "summary": "the owning channel deletes its video: gone from listings, search and sources at once, "
                   "its edges told to delete it, its id refused for good; the signed deletion travels to every "
                   "tracker of the network in this tracker's change feed, whichever tracker the video came from",
                   "parameters": [VIDEO_ID],
        **json_body(signed(payload(VIDEO_REQUEST, required=["video_id"], signer="channel", action="delete"),
                           signer="channel")),
        **answer("deleted", REMOVAL, refusals={
            **CHANNEL_REFUSALS, "403": CHANNEL_REFUSALS["403"] + "; not_owner: another channel's or an anonymous "
                                                                  "video", "404": "no such video", "410": GONE})},
}

CHANNEL_PATHS = {
    "/api/v1/channels": {"post": {
        "summary": "a channel names and describes itself (created on its first signed request)",
        **json_body(signed(payload({"name": fields.text_schema(0, 100, nullable=True),
                                    "description": fields.text_schema(0, 5000, nullable=True)},
                                   signer="channel", action="channel"), signer="channel")),
        # The update that first names it answers 201, later ones 200.
        "responses": {**answer("updated", CHANNEL, refusals=CHANNEL_REFUSALS)["responses"], "201": {
            "description": "its first update", "content": {"application/json": {"schema": CHANNEL}}}}}},
    "/api/v1/channels/{channel_id}": {"get": {
        "summary": "a channel and one page of its public videos, newest first", "parameters": [
            CHANNEL_ID, {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                    "maximum": 10 ** 6}}],
        **answer("the channel", {**CHANNEL, "properties": {
            **CHANNEL["properties"], "videos": {"type": "array", "items": ref("Video")}, "page": INTEGER,
            "per_page": INTEGER, "total": {"type": "integer", "minimum": 0, "maximum": TOTAL_CAP,
                                           "description": f"its public videos, counted up to {TOTAL_CAP}"}}},
            refusals={
            "400": "page is malformed", "404": "this tracker knows no such channel"})}},
    "/api/v1/channels/{channel_id}/videos": {"post": {
        "summary": "the channel's key holder lists all its videos here, public and unlisted, newest first, one "
                   "page at a time: the listing names unlisted ids, so only a fresh document of action list "
                   "signed by this very channel sees it", "parameters": [CHANNEL_ID],
        **json_body(signed(payload({"page": fields.integer_schema(1, 10 ** 6)}, required=["page"],
                                   signer="channel", action="list"), signer="channel")),
        **answer("one page of its videos", {"type": "object", "required": ["videos", "page", "per_page", "total"],
                                            "properties": {
            "videos": {"type": "array", "items": ref("Video")}, "page": INTEGER, "per_page": INTEGER,
            "total": {"type": "integer", "minimum": 0, "description": "all its videos here, public and unlisted"}}},
            refusals={**CHANNEL_REFUSALS, "403": "bad_signature: the signature does not verify with "
                                                 "payload.channel's key; not_owner: payload.channel is another "
                                                 "channel than the one in the URL"})}},
    "/api/v1/admin/takedowns": {"post": {
        "summary": "the operator takes a video down: as a deletion, and its id is refused for good (also "
                   "an id this tracker does not list)", "security": [{"operator": []}],
        **json_body({"type": "object", "required": ["video_id", "reason"], "properties": {
            "video_id": fields.VIDEO_ID, "reason": fields.text_schema(1, 1000)}}),
        **answer("taken down", REMOVAL, status="201", refusals={
            **OPERATOR_REFUSALS, "400": "a field is malformed (it is named)", "410": "already removed"})}},
    **{f"/api/v1/admin/channels/{{channel_id}}/{action}": {"post": {
        "summary": f"the operator {action}s a channel: a blocked one's placements, edits, deletions and "
                   "updates are refused", "security": [{"operator": []}], "parameters": [CHANNEL_ID],
        **answer("the channel", CHANNEL, refusals={**OPERATOR_REFUSALS, "400": "not a channel id"})}}
       for action in ("block", "unblock")},
}
