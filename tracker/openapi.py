"""`GET /api/v1/openapi.json`: an OpenAPI 3.1 description of the tracker API (README.md, API)."""
from flask import Blueprint, current_app

from .nodes.reports import REPORT_PATHS
from .openapi_network import BITTORRENT_PATHS, FEDERATION_PATHS, SOURCES_PARAMETERS

bp = Blueprint("openapi", __name__)


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def answer(description, schema=None, status="200"):
    responses = {status: {"description": description}}
    if schema:
        responses[status]["content"] = {"application/json": {"schema": schema}}
    responses["default"] = {"description": "an error", "content": {"application/json": {"schema": ref("Error")}}}
    return {"responses": responses}


def json_body(schema):
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


VIDEO_ID = {"name": "video_id", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{40}$"}}
STRING, INTEGER, NUMBER = {"type": "string"}, {"type": "integer"}, {"type": "number"}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error", "message"],
              "properties": {"error": STRING, "message": STRING}},
    "Signed": {"type": "object", "required": ["payload", "signature"],
               "description": "Ed25519 signature by payload.node of the payload's canonical JSON",
               "properties": {"payload": {"type": "object", "required": ["node", "timestamp"]},
                              "signature": STRING}},
    "Video": {"type": "object", "properties": {
        "id": STRING, "title": STRING, "description": STRING, "creator": STRING, "duration": NUMBER,
        "created": {"type": "string", "format": "date-time"}, "size": INTEGER,
        "renditions": {"type": "array", "items": {"type": "object", "properties": {
            "name": STRING, "width": {"type": ["integer", "null"]}, "height": {"type": ["integer", "null"]},
            "bandwidth": INTEGER}}},
        "poster_url": {"type": ["string", "null"]}}},
}


POSTINGS = {"type": "array", "items": {"type": "object", "properties": {
    "account": STRING, "amount": {"type": "integer", "description": "minor units; negative is a debit"},
    "currency": STRING}}}
GIFT = {"type": "object", "required": ["video_id", "amount", "currency"], "properties": {
    "video_id": STRING, "amount": {"type": "integer", "minimum": 1, "description": "minor units"},
    "currency": {"type": "string", "description": "ISO 4217"}, "found_by": STRING,
    "served": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
               "description": "node id → bytes it served"}}}
DONATION_PATHS = {
    "/api/v1/donations": {"post": {
        "summary": "donate once per Idempotency-Key; split between creator, edges and finding tracker",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True, "schema": STRING}],
        **json_body(GIFT), **answer("the donation and its postings (a repeat answers the same)", {
            "type": "object", "properties": {"donation": STRING, "postings": POSTINGS}}, status="201")}},
    "/api/v1/donations/split": {"get": {
        "summary": "preview a gift's postings; nothing is written", "parameters": [
            {"name": name, "in": "query", "schema": STRING} for name in
            ("video_id", "amount", "currency", "found_by", "served")],
        **answer("the postings the gift would make", {"type": "object", "properties": {
            "postings": POSTINGS, "exponent": INTEGER}})}},
    "/api/v1/accounts/{account}": {"get": {
        "summary": "an account's balances and statement, newest first", "parameters": [
            {"name": "account", "in": "path", "required": True, "schema": STRING},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
        **answer("balances per currency and one page of entries", {"type": "object", "properties": {
            "account": STRING, "balances": {"type": "object", "additionalProperties": INTEGER},
            "entries": {"type": "array"}, "page": INTEGER, "per_page": INTEGER, "total": INTEGER}})}},
}


def document():
    return {
        "openapi": "3.1.0",
        "info": {"title": "Slipstream tracker", "version": "1"},
        "servers": [{"url": current_app.config["SLIPSTREAM_PUBLIC_URL"]}],
        "paths": {
            "/api/v1/nodes/announce": {"post": {
                "summary": "an edge's signed announce", **json_body(ref("Signed")),
                **answer("interval, min interval, tracker id, tasks", {"type": "object", "properties": {
                    "interval": INTEGER, "min interval": INTEGER, "tracker": STRING,
                    "tasks": {"type": "array"}}})}},
            "/api/v1/uploads": {"post": {
                "summary": "placement of an upload on a live edge", **json_body({
                    "type": "object", "required": ["title", "size"], "properties": {
                        "title": STRING, "size": INTEGER, "description": STRING, "creator": STRING}}),
                **answer("where to upload, with a signed ticket", {"type": "object", "properties": {
                    "upload_url": STRING, "ticket": STRING, "node": STRING, "expires": INTEGER,
                    "upload": STRING}})}},
            "/api/v1/videos": {
                "get": {"summary": "the catalog, newest first", "parameters": [
                    {"name": "q", "in": "query", "schema": STRING},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                    **answer("one page of videos", {"type": "object", "properties": {
                        "videos": {"type": "array", "items": ref("Video")}, "page": INTEGER,
                        "per_page": INTEGER, "total": INTEGER}})},
                "post": {"summary": "an edge registers a published video", **json_body(ref("Signed")),
                         **answer("registered", {"type": "object", "properties": {"video_id": STRING}},
                                  status="201")}},
            "/api/v1/videos/{video_id}": {"get": {
                "summary": "one video's metadata", "parameters": [VIDEO_ID], **answer("the video", ref("Video"))}},
            "/api/v1/videos/{video_id}/sources": {"get": {
                "summary": "live edges holding the video, best first; peer trackers are asked about "
                           "an unknown video", "parameters": [VIDEO_ID, *SOURCES_PARAMETERS],
                **answer("sources", {"type": "object", "required": ["video_id", "sources", "found_by"],
                                     "properties": {
                    "video_id": STRING, "found_by": STRING, "sources": {"type": "array", "items": {
                        "type": "object", "properties": {"node": STRING, "url": STRING}}}}})}},
            **DONATION_PATHS,
            **BITTORRENT_PATHS,
            **FEDERATION_PATHS,
            **REPORT_PATHS,
            "/api/v1/openapi.json": {"get": {"summary": "this document", **answer("OpenAPI 3.1")}},
            "/healthz": {"get": {"summary": "health", **answer("ok")}},
            "/metrics": {"get": {"summary": "Prometheus text format", **answer("metrics")}},
        },
        "components": {"schemas": SCHEMAS},
    }


@bp.get("/api/v1/openapi.json")
def openapi():
    return document()
