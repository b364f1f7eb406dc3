"""The OpenAPI description of the edge's deny-list (edge/deny.py): the operator's routes, and the 451."""
from protocol.ids import VIDEO_ID

from .deny import MAX_REASON
from .openapi_answers import INTERNAL, NUMBER, OPERATOR_REFUSALS, STRING, answer, pattern, refused

DENIED = refused("this edge's operator has denied the video (RFC 7725: Unavailable For Legal Reasons)", "denied")
ENTRY = {"type": "object", "required": ["video_id", "reason", "created"], "additionalProperties": False,
         "properties": {"video_id": pattern(VIDEO_ID), "reason": STRING,
                        "created": {**NUMBER, "description": "Unix time it was denied"}}}
BAD_ID = refused("the video id is not 40 lowercase hex characters, or the reason is not a string of at most "
                 f"{MAX_REASON} characters", "invalid_video_id", "invalid_reason")


def deny_paths(video):
    """The deny-list's paths; `video` is the video_id path parameter."""
    operator = {"security": [{"operator": []}]}
    return {
        "/api/v1/deny": {"get": {
            "operationId": "denyList", "summary": "operator: the videos this edge refuses to store, pull or serve",
            **operator, "responses": {
                "200": answer("the deny-list, newest first", {
                    "type": "object", "required": ["denied"], "additionalProperties": False,
                    "properties": {"denied": {"type": "array", "items": ENTRY}}}),
                **OPERATOR_REFUSALS, "500": INTERNAL}}},
        "/api/v1/deny/{video_id}": {
            "post": {
                "operationId": "deny", "summary": "operator: deny a video: its copy here is deleted, and it is "
                "never stored, pulled or served again (451) until allowed", **operator, "parameters": [video],
                "requestBody": {"required": False, "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {"reason": {"type": ["string", "null"], "maxLength": MAX_REASON}}}}}},
                "responses": {
                    "201": answer("denied", {
                        "type": "object", "required": ["video_id", "reason", "deleted"], "additionalProperties": False,
                        "properties": {"video_id": pattern(VIDEO_ID), "reason": STRING, "deleted": {
                            "type": "boolean", "description": "whether a copy was held here (now deleted)"}}}),
                    "400": BAD_ID, **OPERATOR_REFUSALS, "500": INTERNAL}},
            "delete": {
                "operationId": "allow", "summary": "operator: take a video off the deny-list", **operator,
                "parameters": [video], "responses": {
                    "200": answer("allowed again", {
                        "type": "object", "required": ["video_id", "denied"], "additionalProperties": False,
                        "properties": {"video_id": pattern(VIDEO_ID), "denied": {"const": False}}}),
                    "400": BAD_ID, **OPERATOR_REFUSALS,
                    "404": refused("the video is not on the deny-list", "not_denied"), "500": INTERNAL}}},
    }
