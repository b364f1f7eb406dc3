"""Signed requests from this edge to its tracker (announces and video registrations)."""
import requests

from protocol.signing import sign


class TrackerError(Exception):
    """The tracker could not be reached or refused a request; `status` is its HTTP status or None."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def post_signed(node, path, payload, timeout=10):
    """POST `{"payload", "signature"}` signed by the node's key; return the JSON answer."""
    url = node.tracker_url + path
    try:
        answer = requests.post(url, json=sign(payload, node.key), timeout=timeout)
    except requests.RequestException as exc:
        raise TrackerError(f"tracker {node.tracker_url} is unreachable: {exc}") from exc
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    if answer.status_code >= 400:
        reason = body.get("message") or body.get("error") or answer.reason
        raise TrackerError(f"tracker refused {path} ({answer.status_code}): {reason}", answer.status_code)
    # BitTorrent style: a 200 answer may still carry a refusal.
    if body.get("failure reason"):
        raise TrackerError(f"tracker refused {path}: {body['failure reason']}", answer.status_code)
    return body
