"""Signed requests from this edge to one of its trackers (announces, registrations, hand-overs)."""
import requests

from protocol.signing import sign


class TrackerError(Exception):
    """The tracker could not be reached or refused a request; `status` is its HTTP status or None."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def post_signed(node, tracker_url, path, payload, timeout=10):
    """POST `{"payload", "signature"}` signed by the node's key to `tracker_url`; return the JSON answer."""
    try:
        answer = requests.post(tracker_url + path, json=sign(payload, node.key), timeout=timeout)
    except requests.RequestException as exc:
        raise TrackerError(f"tracker {tracker_url} is unreachable: {exc}") from exc
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    if answer.status_code >= 400:
        reason = body.get("message") or body.get("error") or answer.reason
        raise TrackerError(f"tracker {tracker_url} refused {path} ({answer.status_code}): {reason}", answer.status_code)
    # BitTorrent style: a 200 answer may still carry a refusal.
    if body.get("failure reason"):
        raise TrackerError(f"tracker {tracker_url} refused {path}: {body['failure reason']}", answer.status_code)
    return body
