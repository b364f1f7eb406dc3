"""Ed25519 keys and signed documents shared by edges and trackers.

A node's id is its public key in hex. A signed document is `{"payload": {...}, "signature": hex}`
with the signature over the payload's canonical JSON. A ticket is such a document packed into one
URL-safe string, so it can travel as a form field or a tus metadata value.
"""
import base64
import json
import os
import time

import nacl.exceptions
import nacl.signing

from .manifest import canonical_json


class BadSignature(Exception):
    """A signed document is malformed, forged, expired or signed by someone else."""


def load_or_create_key(path):
    """Read the 32-byte seed at `path`, creating it (mode 0600) on first start."""
    try:
        with open(path, "rb") as f:
            return nacl.signing.SigningKey(f.read())
    except FileNotFoundError:
        key = nacl.signing.SigningKey.generate()
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(bytes(key))
        os.replace(path + ".tmp", path)
        return key


def node_id(key):
    return key.verify_key.encode().hex()


def sign(payload, key):
    return {"payload": payload, "signature": key.sign(canonical_json(payload)).signature.hex()}


def verify(document, public_hex):
    """Return the payload of `document` if `public_hex` signed it, else raise BadSignature."""
    try:
        payload, signature = document["payload"], bytes.fromhex(document["signature"])
        nacl.signing.VerifyKey(bytes.fromhex(public_hex)).verify(canonical_json(payload), signature)
    except (KeyError, TypeError, ValueError, nacl.exceptions.BadSignatureError) as exc:
        raise BadSignature("signature does not verify") from exc
    if not isinstance(payload, dict):
        raise BadSignature("payload is not an object")
    return payload


def verify_fresh(document, public_hex, max_skew=300, now=None):
    """Verify and check the payload's `timestamp` is within `max_skew` seconds of now."""
    payload = verify(document, public_hex)
    now = time.time() if now is None else now
    stamp = payload.get("timestamp")
    if not isinstance(stamp, (int, float)) or abs(now - stamp) > max_skew:
        raise BadSignature("timestamp is missing or too far from the current time")
    return payload


def encode_ticket(document):
    return base64.urlsafe_b64encode(canonical_json(document)).decode().rstrip("=")


def decode_ticket(ticket, public_hex, now=None):
    """Unpack and verify a ticket; refuse it once its `expires` time has passed."""
    try:
        raw = base64.urlsafe_b64decode(ticket + "=" * (-len(ticket) % 4))
        document = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise BadSignature("ticket is not readable") from exc
    if not isinstance(document, dict):
        raise BadSignature("ticket is not readable")
    payload = verify(document, public_hex)
    expires = payload.get("expires")
    if not isinstance(expires, (int, float)) or expires < (time.time() if now is None else now):
        raise BadSignature("ticket has expired")
    return payload
