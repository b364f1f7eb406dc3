"""The pieces every part of the tracker's OpenAPI document is built of (openapi.py): references,
answers with their refusals, JSON bodies, and signed documents (tracker/signed.py)."""
from . import fields
from .signed import MAX_SKEW

STRING, INTEGER, NUMBER = {"type": "string"}, {"type": "integer"}, {"type": "number"}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def answer(description, schema=None, status="200", refusals=None):
    """The responses of an operation: its answer, the refusals it can meet, and `default` for the
    rest (413 past the body limit, 500)."""
    responses = {status: {"description": description}}
    if schema:
        responses[status]["content"] = {"application/json": {"schema": schema}}
    for code, why in (refusals or {}).items():
        responses[code] = {"description": why, "content": {"application/json": {"schema": ref("Error")}}}
    responses["default"] = {"description": "an error", "content": {"application/json": {"schema": ref("Error")}}}
    return {"responses": responses}


def json_body(schema):
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def signed(payload, signer="node"):
    """A document signed by the key in payload[signer] (tracker/signed.py)."""
    return {"type": "object", "required": ["payload", "signature"],
            "description": f"Ed25519 signature by payload.{signer} of the payload's canonical JSON",
            "properties": {"payload": payload, "signature": {
                "type": "string", "description": "the 64-byte Ed25519 signature in hex"}}}


def payload(properties, required=(), signer="node", action=None):
    """A signed payload: the signer's key (a node's or a channel's) and timestamp, its `action` when
    the operation takes one (tracker/signed.py, ACTIONS), then the document's own fields."""
    named = {} if action is None else {"action": {"const": action, "description": "what the document is for: "
                                                  "any other endpoint refuses it (400 wrong_action)"}}
    return {"type": "object", "required": [signer, "timestamp", *named, *required], "properties": {
        signer: fields.NODE_ID,
        "timestamp": {"type": "number", "description": f"Unix seconds, within {MAX_SKEW} s of the "
                      f"tracker's clock and newer than the last one accepted from this {signer}"},
        **named, **properties}}


SIGNED_REFUSALS = {
    "400": "malformed (the field is named), a stale timestamp or a replay",
    "403": "the signature does not verify with payload.node's key, or the node may not do this"}
