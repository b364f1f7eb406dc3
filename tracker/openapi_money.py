"""The OpenAPI description of moderation and money: flags, payouts, and the operator's side of both."""
from . import fields
from .flags.models import MAX_NOTE as MAX_FLAG_NOTE, REASONS
from .ledger.currencies import CURRENCIES
from .ledger.models import MAX_DESTINATION, MAX_NOTE
from .ledger.payouts import STATES
from .openapi_base import INTEGER, STRING, answer, json_body, payload, signed
from .openapi_channels import OPERATOR_REFUSALS as ADMIN_REFUSALS

PAYOUT = {"type": "object", "properties": {
    "payout": STRING, "account": {"type": "string", "description": "channel:<id> or node:<id>"},
    "amount": {"type": "integer", "description": "minor units"}, "currency": STRING, "destination": STRING,
    "state": {"enum": list(STATES)}, "created": {"type": "string", "format": "date-time"},
    "decided": {"type": ["string", "null"], "format": "date-time"},
    "reference": {"type": ["string", "null"], "description": "paid: the external transfer's reference"},
    "reason": {"type": ["string", "null"], "description": "rejected: why"}}}
CLAIM = {"amount": {"type": "integer", "minimum": 1, "description": "minor units, at most the account's balance"},
         "currency": {"enum": sorted(CURRENCIES), "description": "ISO 4217"},
         "destination": {**fields.text_schema(1, MAX_DESTINATION),
                         "description": "where to send it: an IBAN, a PayPal or Lightning address"}}
OPERATOR = {"security": [{"operator": []}]}  # bearer TRACKER_ADMIN_TOKEN (admin.py)
PAGE = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10 ** 6}}
PAYOUT_ID = {"name": "payout_id", "in": "path", "required": True, "schema": STRING}

PAYOUT_PATHS = {
    "/api/v1/payouts": {"post": {
        "summary": "claim money an account holds, signed by its channel's or its node's key; it moves to "
                   "payouts:pending until the operator pays or rejects it",
        **json_body({"oneOf": [
            signed(payload(CLAIM, list(CLAIM), signer="channel", action="payout"), signer="channel"),
            # A payload naming a channel is the channel's claim, whatever else it names (payouts.py).
            signed({**payload(CLAIM, list(CLAIM), signer="node", action="payout"), "not": {"required": ["channel"]}},
                   signer="node")]}),
        **answer("the claim, pending", {"type": "object", "required": ["payout", "state"], "properties": {
            "payout": STRING, "state": {"const": "pending"}, "account": STRING}}, status="201", refusals={
            "400": "malformed (the field is named), a stale timestamp, a replay, or wrong_action: a document "
                   "signed for another endpoint",
            "403": "the signature does not verify with the key the payload names",
            "422": "insufficient_funds: the account holds less than the amount in that currency"})}},
    "/api/v1/admin/payouts": {"get": {
        "summary": "payouts, oldest first (operator)", **OPERATOR, "parameters": [
            {"name": "state", "in": "query", "schema": {"enum": list(STATES)}}, PAGE],
        **answer("one page of payouts", {"type": "object", "properties": {
            "payouts": {"type": "array", "items": PAYOUT}, "page": INTEGER, "per_page": INTEGER, "total": INTEGER}},
            refusals={"400": "state or page is malformed", **ADMIN_REFUSALS})}},
    "/api/v1/admin/payouts/{payout_id}": {"post": {
        "summary": "decide a pending payout once: paid (with the transfer's reference) or rejected (with a "
                   "reason; the amount goes back to its owner) (operator)", **OPERATOR, "parameters": [PAYOUT_ID],
        **json_body({"oneOf": [
            {"type": "object", "required": ["state", "reference"], "properties": {
                "state": {"const": "paid"}, "reference": fields.text_schema(1, MAX_NOTE)}},
            {"type": "object", "required": ["state", "reason"], "properties": {
                "state": {"const": "rejected"}, "reason": fields.text_schema(1, MAX_NOTE)}}]}),
        **answer("the payout as decided", PAYOUT, refusals={
            "400": "state, reference or reason is malformed", **ADMIN_REFUSALS, "404": "no such payout",
            "409": "the payout was already decided"})}},
}

VIDEO_ID = {"name": "video_id", "in": "path", "required": True, "schema": fields.VIDEO_ID}
FLAG_PATHS = {
    "/api/v1/videos/{video_id}/flags": {"post": {
        "summary": "flag a video for the operator; an address flagging the same video again counts once",
        "parameters": [VIDEO_ID], **json_body({"type": "object", "required": ["reason"], "properties": {
            "reason": {"enum": list(REASONS)}, "note": fields.text_schema(0, MAX_FLAG_NOTE, nullable=True)}}),
        **answer("the flag was taken", {"type": "object", "properties": {
            "video_id": STRING, "reason": STRING,
            "counted": {"type": "boolean", "description": "false: this address already flagged the video"}}},
            status="201", refusals={"400": "the video id, reason or note is malformed", "404": "no such video"})}},
    "/api/v1/admin/flags": {"get": {
        "summary": "videos with open flags, most recently flagged first (operator)", **OPERATOR, "parameters": [PAGE],
        **answer("one page of flagged videos", {"type": "object", "properties": {
            "videos": {"type": "array", "items": {"type": "object", "properties": {
                "video_id": STRING, "title": {"type": ["string", "null"]}, "flags": INTEGER,
                "reasons": {"type": "object", "additionalProperties": INTEGER},
                "notes": {"type": "array", "items": STRING}, "latest": {"type": "string", "format": "date-time"}}}},
            "page": INTEGER, "per_page": INTEGER, "total": INTEGER}},
            refusals={"400": "page is malformed", **ADMIN_REFUSALS})}},
    "/api/v1/admin/flags/{video_id}/dismiss": {"post": {
        "summary": "dismiss a video's open flags (operator)", **OPERATOR, "parameters": [
            {"name": "video_id", "in": "path", "required": True, "schema": STRING}],
        **answer("how many flags were dismissed", {"type": "object", "properties": {
            "video_id": STRING, "dismissed": INTEGER}}, refusals={**ADMIN_REFUSALS, "404": "no open flags"})}},
}

MONEY_PATHS = {**FLAG_PATHS, **PAYOUT_PATHS}
