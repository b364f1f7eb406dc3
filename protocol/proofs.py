"""Proof that the server at a URL holds a node's key (README.md, trust model: proven URLs).

The tracker sends `POST {url}/api/v1/proof` with `{"challenge": 64 hex, "tracker": tracker id,
"url": url}`; the edge answers with a document signed by its key whose payload is exactly
`{"challenge", "tracker", "url", "node"}`. The fresh random challenge means an answer cannot be
replayed; the tracker id and the URL inside it mean it cannot be relayed to another tracker or used
to vouch for another URL.
"""
import secrets

from .errors import BadSignature
from .ids import is_public_key
from .signing import sign, verify

PATH = "/api/v1/proof"


def new_challenge():
    return secrets.token_hex(32)


def is_challenge(value):
    return is_public_key(value)  # the same shape: 32 bytes as 64 lowercase hex characters


def prove(challenge, tracker, url, key, node):
    """The edge's answer to a challenge."""
    return sign({"challenge": challenge, "tracker": tracker, "url": url, "node": node}, key)


def check_proof(document, challenge, tracker, url, node):
    """Raise BadSignature unless `document` is `node`'s answer to exactly this challenge."""
    if not isinstance(document, dict):
        raise BadSignature("the proof is not a signed document")
    payload = verify(document, node)
    if payload != {"challenge": challenge, "tracker": tracker, "url": url, "node": node}:
        raise BadSignature("the proof answers another challenge, tracker, URL or node")
