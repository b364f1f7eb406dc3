"""Documents keys sign: `{"payload": {"node": public key hex, "timestamp": s, ...}, "signature": hex}`
from an edge, the same with `"channel"` in place of `"node"` from a channel (a creator's key).

The signature proves the key's holder wrote it; the timestamp, within MAX_SKEW of our clock, bounds how
long a captured document could be replayed (models refuse one not newer than the last accepted: nodes
in their own rows, channels and any other signer through signers.py).

A channel's documents, and a node's payout claims, also name their `action` (ACTIONS), and each
endpoint takes only its own: without it one signed document could serve as another, e.g. a title
edit sent as a deletion, or replayed as one at another tracker within the skew.
"""
import math

from protocol.errors import BadSignature
from protocol.signing import verify, verify_fresh

from . import clock, fields
from .errors import ApiError

MAX_SKEW = 300
# What a signed payload's `action` may say: the one endpoint each document is for (README.md, channels).
ACTIONS = ("upload", "channel", "edit", "delete", "payout", "list")


def verified_payload(body, signer="node", action=None):
    """The payload of a signed body, or an ApiError saying what is wrong with it. `signer` names the
    payload field holding the public key that must have signed it ("node", "channel"); `action`, when
    given, is what the payload's `action` must say (checked after the signature, so a forgery is 403)."""
    if not isinstance(body.get("payload"), dict) or not isinstance(body.get("signature"), str):
        raise ApiError(400, "bad_document", 'the body must be {"payload": {...}, "signature": hex}')
    node = fields.node_id(body["payload"], signer)
    try:
        payload = verify_fresh(body, node, MAX_SKEW, clock.now())
    except BadSignature:
        payload = None
    # NaN passes every "within skew" test and fails every "newer than" test: it would be replayable forever.
    if payload is not None and not isinstance(payload["timestamp"], bool) and math.isfinite(payload["timestamp"]):
        if action is not None and payload.get("action") != action:
            raise wrong_action(payload, action)
        return payload
    # Tell a forged document from an honest node whose clock is off: they need different fixes.
    try:
        verify(body, node)
    except BadSignature:
        raise ApiError(403, "bad_signature", f"the signature does not verify with the {signer}'s key") from None
    raise ApiError(400, "stale_timestamp",
                   f"timestamp must be Unix seconds within {MAX_SKEW} s of the tracker's clock")


def as_received(body):
    """The signed document of a verified body, to be kept: its payload and signature as they came, so
    anyone handed the record later can check it against the signer's key (nothing else of the body)."""
    return {"payload": body["payload"], "signature": body["signature"]}


def wrong_action(payload, action):
    said = payload.get("action")
    found = f'is for "{said}"' if said in ACTIONS else "names no action this tracker knows"
    return ApiError(400, "wrong_action", f'this request takes a document whose action is "{action}"; this one {found}')
