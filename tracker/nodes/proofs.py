"""Proven URLs (README.md, trust model): the tracker uses a node's URL only once the server there
has shown it holds the node's key.

On a node's first announce, whenever its URL changes, and every TRACKER_PROOF_INTERVAL, the tracker
sends a fresh random challenge to `{url}/api/v1/proof` (protocol/proofs.py) and checks the signed
answer against the node's key. Until then the node is listed nowhere (Node.is_live). Cost: one
request of a few hundred bytes per node per interval.
"""
import json

from flask import current_app

from protocol.errors import BadSignature
from protocol.http import UnsafeRequest
from protocol.proofs import PATH, check_proof, new_challenge

from ..refusals import Unproven

MAX_ANSWER = 4096  # a signed proof is about 400 bytes


def needs_proof(node, url, now, interval):
    return node is None or node.proven_url != url or node.proven_at <= now - interval


def prove_url(node_id, url):
    """Return once the server at `url` has proven it holds `node_id`'s key; else refuse."""
    tracker = current_app.config["TRACKER_ID"]
    challenge = new_challenge()
    client = current_app.extensions["tracker.checker"]
    try:
        answer = client.request("POST", url + PATH, json={"challenge": challenge, "tracker": tracker, "url": url},
                                max_bytes=MAX_ANSWER)
    except UnsafeRequest as exc:
        raise Unproven("url_not_proven", f"the tracker could not ask {url} for a proof: {exc}") from None
    try:
        if answer.status != 200:
            raise ValueError(f"{url}{PATH} answered {answer.status}")
        check_proof(json.loads(answer.body), challenge, tracker, url, node_id)
    except (ValueError, BadSignature) as exc:
        raise Unproven("url_not_proven", f"the server at {url} did not prove it holds this node's key: {exc}") \
            from None
