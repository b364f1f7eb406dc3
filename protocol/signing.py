"""Ed25519 keys and signed documents shared by edges and trackers.

A node's id is its public key in hex. A signed document is `{"payload": {...}, "signature": hex}`
with the signature over the payload's canonical JSON.
"""
import math
import os
import tempfile
import time

import nacl.exceptions
import nacl.signing

from .errors import BadSignature
from .ids import canonical_json


def load_or_create_key(path):
    """Read the 32-byte seed at `path`, creating it (mode 0600) on first start.

    Several workers may start at once on a new data dir: the seed is written to a private temp
    file and hard-linked into place, so exactly one key wins and every process reads that one.
    """
    try:
        with open(path, "rb") as f:
            return nacl.signing.SigningKey(f.read())
    except FileNotFoundError:
        directory = os.path.dirname(path) or "."
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".key-")  # mkstemp creates mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(bytes(nacl.signing.SigningKey.generate()))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process won the race; use its key
        finally:
            os.unlink(tmp)
        with open(path, "rb") as f:
            return nacl.signing.SigningKey(f.read())


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
    if not is_finite_number(stamp) or abs(now - stamp) > max_skew:
        raise BadSignature("timestamp is missing or too far from the current time")
    return payload


def is_finite_number(value):
    # JSON allows NaN and Infinity through Python's parser; neither is a usable time.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
