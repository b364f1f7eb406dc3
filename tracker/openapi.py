"""`GET /api/v1/openapi.json`: an OpenAPI 3.1 description of the tracker API (README.md, API).

It says exactly what the code accepts: the field schemas come from the readers in fields.py, every
refusal a request can meet is listed with its status, and tests/contract/test_contract.py runs schemathesis
against a real tracker to hold the two together.
"""
from flask import Blueprint, current_app

from . import fields
from .catalog.search import TOTAL_CAP
from .catalog.views import MAX_PAGE, MAX_QUERY
from .ledger.donations import gift_schema
from .ledger.models import MAX_ACCOUNT, MAX_KEY
from .nodes.reports import REPORT_PATHS
from .openapi_money import MONEY_PATHS
from .openapi_network import BITTORRENT_PATHS, FEDERATION_PATHS, GOSSIP_PATHS, SOURCES_PARAMETERS
from .openapi_base import INTEGER, NUMBER, SIGNED_REFUSALS, STRING, answer, json_body, payload, ref, signed
from .openapi_channels import CHANNEL_PATHS, CHANNEL_VIDEO_OPERATIONS, GONE, signed_placement
from .openapi_webrtc import SOURCES_ANSWER, WEBRTC_PATHS

bp = Blueprint("openapi", __name__)

PAGE = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}}
VIDEO_ID = {"name": "video_id", "in": "path", "required": True, "schema": fields.VIDEO_ID}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error", "message"],
              "properties": {"error": STRING, "message": STRING}},
    "Video": {"type": "object", "properties": {
        "id": STRING, "title": STRING, "description": STRING, "duration": NUMBER,
        "creator": {**STRING, "description": "free text for an anonymous video; a channel's video: its channel's name"},
        "channel": {"type": ["string", "null"], "description": "the owning channel's key; null: anonymous"},
        "visibility": {"enum": ["public", "unlisted"], "description": "unlisted: never in search or browse"},
        "created": {"type": "string", "format": "date-time"}, "size": INTEGER,
        "renditions": {"type": "array", "items": {"type": "object", "properties": {
            "name": STRING, "width": {"type": ["integer", "null"]}, "height": {"type": ["integer", "null"]},
            "bandwidth": INTEGER}}},
        "poster_url": {"type": ["string", "null"]},
        "origin": {"type": "string", "description": "the public key of the tracker that registered it"},
        "origin_url": {"type": "string", "description": "that tracker's public URL"}}},
}

ANNOUNCE = payload({
    "url": {"type": "string", "description": "the edge's public http(s) URL (no credentials, query or "
            "fragment; no private address unless TRACKER_ALLOW_PRIVATE), proven before it is listed"},
    "capacity": fields.integer_schema(), "used": fields.integer_schema(),
    "free": {**fields.integer_schema(nullable=True), "description": "free disk, less the edge's margin"},
    "videos": {"type": "array", "items": fields.VIDEO_ID},
    "event": {"enum": ["", "started", "stopped", "completed", None]}}, required=["url", "capacity", "used"])
# The package's facts (size, duration, renditions, poster) come from its manifest, fetched and audited.
REGISTRATION = payload({"upload": fields.text_schema(1, 64), "video_id": fields.VIDEO_ID},
                       required=["upload", "video_id"])
DROP = payload({"video_id": fields.VIDEO_ID}, required=["video_id"])

TASK = {"oneOf": [
    {"type": "object", "required": ["action", "video_id", "sources", "size"], "properties": {
        "action": {"const": "replicate"}, "video_id": fields.VIDEO_ID, "sources": {"type": "array", "items": STRING},
        "size": {**INTEGER, "description": "the package's bytes, manifest included: hold them, accept no more"}}},
    {"type": "object", "required": ["action", "video_id"], "properties": {
        "action": {"const": "delete"}, "video_id": fields.VIDEO_ID}},
    {"type": "object", "required": ["action", "video_id", "reason"], "description": "the video was deleted or "
     "taken down: delete the copy now", "properties": {
        "action": {"const": "remove"}, "video_id": fields.VIDEO_ID, "reason": {"enum": ["deleted", "takedown"]}}}]}

NODE_PATHS = {
    "/api/v1/nodes/announce": {"post": {
        "summary": "an edge's signed announce", **json_body(signed(ANNOUNCE)),
        **answer("interval, min interval, tracker id, how it reached the node, tasks", {"type": "object", "properties": {
            "interval": INTEGER, "min interval": INTEGER, "tracker": STRING,
            "reach": {"enum": ["https", "http", "webrtc"], "description": "how viewers reach the node, as the "
                      "tracker last measured it (README.md, Home edges)"},
            "tasks": {"type": "array", "items": TASK}}},
            refusals={**SIGNED_REFUSALS, "409": "another live node has proven this URL",
                      "422": "the URL is not one viewers may be sent to, or its server did not prove it "
                             "holds the node's key"})}},
    "/api/v1/nodes/drop": {"post": {
        "summary": "an edge asks to hand a video over; it is told to delete it once TRACKER_REPLICAS "
                   "audited copies live on other edges", **json_body(signed(DROP)),
        **answer("the hand-over started", {"type": "object", "properties": {
            "state": {"const": "handing_over"}, "video_id": STRING}}, status="202",
            refusals={**SIGNED_REFUSALS, "409": "the node has not announced a copy of the video"})}},
}
REGISTER = {
    "summary": "an edge registers a video it published from an upload placed on it",
    **json_body(signed(REGISTRATION)),
    **answer("registered", {"type": "object", "properties": {"video_id": STRING}}, status="201", refusals={
        **SIGNED_REFUSALS, "403": SIGNED_REFUSALS["403"] + "; channel_blocked: the upload's channel is blocked now",
        "404": "no such upload", "409": "the upload already produced another video",
        "410": "the video was deleted or taken down here: its id is refused for good",
        "422": "the node's URL is not proven, or the package there failed its check"})}


def placement_path(max_size):
    """Placement, where `size` is at most what one address may hold reserved (TRACKER_RATE_RESERVED)."""
    return {"/api/v1/uploads": {"post": {
        "summary": "placement of an upload on a live edge: anonymous, or signed by a channel that will own "
                   "the video", **json_body({"anyOf": [{
                       "type": "object", "required": ["title", "size"], "not": {"required": ["payload"]},
                       "properties": {
                           "title": fields.text_schema(1, 200), "size": fields.integer_schema(1, max_size),
                           "description": fields.text_schema(0, 5000, nullable=True),
                           "creator": fields.text_schema(0, 100, nullable=True)}},
                       signed_placement(max_size)]}),
        **answer("where to upload, with a signed ticket", {"type": "object", "properties": {
            "upload_url": STRING, "ticket": STRING, "node": STRING, "expires": INTEGER, "upload": STRING}},
            refusals={"400": "a field is malformed (it is named), a stale timestamp or a replay",
                      "403": "the channel's signature does not verify, or the operator blocked the channel",
                      "507": "no live edge has room"})}}}


# Counting every match was most of a search's time at a million videos (catalog/search.py).
CAPPED_TOTAL = {"type": "integer", "minimum": 0, "maximum": TOTAL_CAP,
                "description": f"the videos that match, counted up to {TOTAL_CAP}; {TOTAL_CAP} means at least "
                               "that many, and their pages then come in the search index's order, newest learnt "
                               "first, rather than by date"}


CATALOG_PATHS = {
    "/api/v1/videos": {"get": {
        "summary": "the catalog, newest first; every word of q matches as a prefix", "parameters": [
            {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": MAX_QUERY}}, PAGE],
        **answer("one page of videos", {"type": "object", "properties": {
            "videos": {"type": "array", "items": ref("Video")}, "page": INTEGER,
            "per_page": INTEGER, "total": CAPPED_TOTAL}}, refusals={"400": "q or page is malformed"})},
        "post": REGISTER},
    "/api/v1/videos/{video_id}": {"get": {
        "summary": "one video's metadata", "parameters": [VIDEO_ID],
        **answer("the video", ref("Video"), refusals={"404": "no such video", "410": GONE})},
        **CHANNEL_VIDEO_OPERATIONS},
    "/api/v1/videos/{video_id}/sources": {"get": {
        "summary": "live edges holding the video, best first; peer trackers are asked about an unknown "
                   "video", "parameters": [VIDEO_ID, *SOURCES_PARAMETERS],
        **answer("sources", SOURCES_ANSWER,
            refusals={"400": "hops is malformed", "404": "neither this tracker nor its peers know it",
                      "410": GONE})}},
}


POSTINGS = {"type": "array", "items": {"type": "object", "properties": {
    "account": STRING, "amount": {"type": "integer", "description": "minor units; negative is a debit"},
    "currency": STRING}}}
UNCREDITED = {"type": "array", "description": "served entries that earned nothing, or not all they claimed; "
               "their share went to the creator", "items": {"type": "object", "required": ["node", "bytes", "reason"],
                                                            "properties": {"node": STRING, "bytes": INTEGER, "reason": {
                                                                "enum": ["no_audited_copy", "over_bound"]}}}}
GIFT_REFUSALS = {"400": "a field is malformed (it is named)", "404": "no such video, or a node in served this "
                 "tracker never knew", "410": GONE}


def donation_paths(trackers):
    """The ledger's paths; `trackers` are the URLs found_by may name (this tracker's and its peers')."""
    return {
        "/api/v1/donations": {"post": {
            "summary": "donate once per Idempotency-Key; split between creator, edges and finding tracker",
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True, "schema": {
                "type": "string", "pattern": f"^[!-~]([ -~]{{0,{MAX_KEY - 2}}}[!-~])?$",
                "description": f"1 to {MAX_KEY} printable ASCII characters (a fresh UUID per gift)"}}],
            **json_body(gift_schema(trackers, query=False)),
            **answer("the donation and its postings (a repeat answers the same)", {
                "type": "object", "required": ["donation", "postings", "uncredited"],
                "properties": {"donation": STRING, "postings": POSTINGS, "uncredited": UNCREDITED}}, status="201",
                refusals={**GIFT_REFUSALS, "409": "the Idempotency-Key was used for another gift"})}},
        "/api/v1/donations/split": {"get": {
            "summary": "preview a gift's postings; nothing is written", "parameters": [{
                "name": "gift", "in": "query", "required": True, "style": "form", "explode": True,
                "description": "the gift as query parameters: video_id, amount, currency, found_by, served",
                "schema": gift_schema(trackers, query=True)}],
            **answer("the postings the gift would make", {"type": "object", "properties": {
                "postings": POSTINGS, "exponent": INTEGER, "uncredited": UNCREDITED}}, refusals=GIFT_REFUSALS)}},
        "/api/v1/accounts/{account}": {"get": {
            "summary": "an account's balances and statement, newest first: each entry says why it was made "
                       "(reason: donation, payout_requested, payout_paid, payout_rejected) and by what "
                       "(its donation and video, or its payout)", "parameters": [
                {"name": "account", "in": "path", "required": True, "schema": {
                    "type": "string", "maxLength": MAX_ACCOUNT,
                    "pattern": "^(creator|channel|node|tracker|donor|payouts):[\\s\\S]",
                    "description": "creator:<name>, channel:<id>, node:<id>, tracker:<id or URL>, donor:external, "
                                   "payouts:pending or payouts:paid"}}, PAGE],
            **answer("balances per currency and one page of entries", {"type": "object", "properties": {
                "account": STRING, "balances": {"type": "object", "additionalProperties": INTEGER},
                "entries": {"type": "array"}, "page": INTEGER, "per_page": INTEGER, "total": INTEGER}},
                refusals={"400": "page is malformed", "404": "the ledger has no postings for the account"})}},
    }


# gunicorn refuses a request past its limits itself, in plain text, before the app sees it.
SERVER_REFUSALS = {
    "414": "the request line is longer than 4094 bytes (gunicorn's limit_request_line)",
    "431": "a header is longer than 8190 bytes, or there are more than 100 (gunicorn's limits)"}


# Flask opens a database connection before every request it answers (tracker/db.py).
UNAVAILABLE = {"description": "the database is unreachable, or lost this request's connection; retry after "
               "Retry-After seconds", "headers": {"Retry-After": {"schema": INTEGER}},
               "content": {"application/json": {"schema": ref("Error")}}}


def with_responses(paths, responses):
    """`paths` with `responses` added to every operation."""
    return {path: {method: {**operation, "responses": {**operation["responses"], **responses}}
                   for method, operation in item.items()} for path, item in paths.items()}


SERVER_ANSWERS = {code: {"description": why, "content": {"text/plain": {"schema": STRING}}}
                  for code, why in SERVER_REFUSALS.items()}


# The operations with a per-address limit (ratelimits.py; README.md, rate limits), and which limits.
RATE_LIMITED = {
    ("/api/v1/uploads", "post"): "too many placements from your address (TRACKER_RATE_PLACEMENTS), or too many "
                                 "bytes reserved in its placements not yet uploaded (TRACKER_RATE_RESERVED)",
    ("/api/v1/donations", "post"): "too many donations from your address (TRACKER_RATE_DONATIONS)",
    ("/api/v1/videos/{video_id}/sources", "get"): "too many lookups of videos this tracker does not know, which "
                                                  "it asks its peers about, from your address (TRACKER_RATE_LOOKUPS)",
    ("/api/v1/videos/{video_id}/reports", "post"): "too many reports from your address (TRACKER_REPORT_LIMIT)",
    ("/api/v1/videos/{video_id}/flags", "post"): "too many flags from your address (TRACKER_RATE_FLAGS)",
    ("/api/v1/videos/{video_id}/connect", "post"): "too many WebRTC connects from your address (TRACKER_RATE_CONNECT)",
    **dict.fromkeys([("/api/v1/channels", "post"), ("/api/v1/videos/{video_id}", "patch"),
                     ("/api/v1/videos/{video_id}", "delete")],
                    "too many channel requests from your address (TRACKER_RATE_CHANNELS)"),
}
RETRY_AFTER = {"Retry-After": {"required": True, "description": "whole seconds until the limit lets this address "
                               "try again (RFC 9110 section 10.2.3)", "schema": {"type": "string", "pattern": "^[1-9][0-9]*$"}}}


def with_rate_limits(paths):
    """The 429 of each limited operation, with its Retry-After."""
    def limited(path, method, operation):
        why = RATE_LIMITED.get((path, method))
        if why is None:
            return operation
        return {**operation, "responses": {**operation["responses"], "429": {
            "description": why, "headers": RETRY_AFTER, "content": {"application/json": {"schema": ref("Error")}}}}}
    return {path: {method: limited(path, method, operation) for method, operation in item.items()}
            for path, item in paths.items()}


def document():
    config = current_app.config
    public_url = config["SLIPSTREAM_PUBLIC_URL"]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Slipstream tracker", "version": "1"},
        "servers": [{"url": public_url}],
        "paths": with_responses({**with_responses(with_rate_limits({
            **NODE_PATHS,
            **placement_path(config["TRACKER_RATE_RESERVED"] or fields.MAX_INT),
            **CATALOG_PATHS,
            **donation_paths([public_url, *config["TRACKER_PEERS"]]),
            **FEDERATION_PATHS,
            **GOSSIP_PATHS,
            **CHANNEL_PATHS,
            **REPORT_PATHS,
            **MONEY_PATHS,
            **WEBRTC_PATHS,
            "/api/v1/openapi.json": {"get": {"summary": "this document", **answer("OpenAPI 3.1", {"type": "object"})}},
            "/healthz": {"get": {"summary": "health: the database answers", **answer(
                "ok", {"type": "object", "properties": {"status": {"const": "ok"}}})}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {
                "description": "the text exposition format", "content": {"text/plain": {"schema": STRING}}}}}},
        }), {"503": UNAVAILABLE}), **BITTORRENT_PATHS}, SERVER_ANSWERS),
        "components": {"schemas": SCHEMAS, "securitySchemes": {"operator": {
            "type": "http", "scheme": "bearer", "description": "TRACKER_ADMIN_TOKEN"}}},
    }


@bp.get("/api/v1/openapi.json")
def openapi():
    return document()
