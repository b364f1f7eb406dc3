"""`POST /api/v1/proof`: this edge shows a tracker that the server at its URL holds its node key
(README.md, trust model: proven URLs; the format is protocol/proofs.py's).

Signed only for this edge's own URL and for its trackers' pinned keys (any well-formed tracker id
while one of its trackers has none pinned, since a tracker proves the URL during its very first
announce), so an answer can vouch for nothing but this edge at its own address.
"""
import json
from urllib.parse import urlsplit

from flask import Blueprint, current_app, request

from protocol.ids import is_public_key
from protocol.proofs import PATH, is_challenge, prove

from .errors import ApiError

bp = Blueprint("proof", __name__)

FIELDS = {"challenge", "tracker", "url"}
MAX_BODY = 8192  # a challenge is about 250 bytes; a URL at most 2048 characters


@bp.post(PATH)
def proof():
    node = current_app.extensions["edge"]
    raw = request.stream.read(MAX_BODY + 1)  # never more, whatever the body's length says
    if len(raw) > MAX_BODY:
        raise ApiError(413, "too_large", f"a challenge is at most {MAX_BODY} bytes")
    body = read_json(raw) if request.mimetype == "application/json" else None
    if not isinstance(body, dict) or set(body) != FIELDS or not all(isinstance(v, str) for v in body.values()):
        raise ApiError(400, "bad_challenge", "send a JSON object of three strings: 'challenge', 'tracker', 'url'")
    challenge, tracker, url = body["challenge"], body["tracker"], body["url"]
    if not is_challenge(challenge) or not is_public_key(tracker):
        raise ApiError(400, "bad_challenge", "'challenge' and 'tracker' are 64 lowercase hex characters each")
    if not same_url(url, node.public_url):
        raise ApiError(403, "wrong_url", f"this edge proves only its own URL, {node.public_url}")
    pinned = node.proof_keys()
    if pinned is not None and tracker not in pinned:
        raise ApiError(403, "wrong_tracker", f"this edge answers only its trackers, whose keys are {', '.join(pinned)}")
    return prove(challenge, tracker, url, node.key, node.id)


def read_json(raw):
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the parser's depth
        return None


def same_url(url, own):
    """The tracker writes a node's URL with its host in lower case and no trailing slash
    (tracker/nodes/urls.py); compare what that leaves of the two."""
    def key(text):
        parts = urlsplit(text)
        return parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, parts.fragment
    try:
        return key(url) == key(own)
    except ValueError:
        return False
